"""Training systems, one file each, composed of the shared parts (nn, evo, run, io)."""
