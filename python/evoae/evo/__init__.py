"""Evolution: strategies (ask/tell, in C++) and objectives composed into a run."""
from .evolution import Evolution, FullEvaluation, Progress

__all__ = ["Evolution", "Progress", "FullEvaluation"]
