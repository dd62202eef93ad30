"""Saving and loading: checkpoints, results and models, all in one versioned, checksummed,
atomically written format (archive.py). Nothing here imports evoae.evo."""
