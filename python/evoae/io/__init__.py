"""Saving and loading: checkpoints and results."""
