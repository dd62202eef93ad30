"""The best's fitness per generation as people read it, for plots and the viewer."""
from __future__ import annotations

import numpy as np

__all__ = ["fitness_curve"]


def fitness_curve(history: np.ndarray, settings: dict, samples_per_generation: int,
                  values_per_sample: int) -> tuple[np.ndarray, str]:
    """(values, label): for fitness "sae" the history (sums of |error| over a generation's
    samples and pixels) as the mean |error| per pixel; for any other fitness (mse, rmse,
    cross-entropy) the fitness itself, named as it is."""
    history = np.asarray(history, dtype=np.float64)
    fitness = settings.get("fitness", "sae")
    if fitness == "sae":
        return history / (samples_per_generation * values_per_sample), "best MAE per pixel"
    return history, f"best {fitness} (fitness)"
