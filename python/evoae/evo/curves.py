"""The best's fitness (or loss) per generation (or step) as people read it, for plots and the
viewer."""
from __future__ import annotations

import numpy as np

__all__ = ["fitness_curve", "MAE_LABEL"]

MAE_LABEL = "best MAE per pixel"  # the label of a curve of mean |error| per pixel


def fitness_curve(history: np.ndarray, settings: dict, samples_per_generation: int,
                  values_per_sample: int) -> tuple[np.ndarray, str]:
    """(values, label): for fitness (or loss) "sae" the history (sums of |error| over a
    generation's samples and pixels) as the mean |error| per pixel; for loss "mae" the history
    as it is (already that mean); for any other (mse, rmse, cross-entropy, bce, ...) the values
    themselves, named as they are. `settings`: an evolution's (its "fitness") or a trainer's
    (its "loss")."""
    history = np.asarray(history, dtype=np.float64)
    kind = "loss" if "loss" in settings else "fitness"
    measure = settings.get(kind, "sae")
    if measure == "sae":
        return history / (samples_per_generation * values_per_sample), MAE_LABEL
    if measure == "mae":
        return history, MAE_LABEL
    return history, f"best {measure} ({kind})"
