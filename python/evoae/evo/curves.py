"""The best's fitness (or loss) per generation (or step) as people read it, for plots and the
viewer."""
from __future__ import annotations

import numpy as np

__all__ = ["fitness_curve", "MAE_LABEL"]

MAE_LABEL = "best MAE per pixel"  # the label of a curve of mean |error| per pixel


def fitness_curve(history: np.ndarray, settings: dict, samples_per_generation: int,
                  values_per_sample: int) -> tuple[np.ndarray, str]:
    """(values, label): for "sae" the history (sums of |error|) as the mean |error| per pixel;
    for "mae" the history as it is (already that mean); for any other measure (mse, rmse,
    cross-entropy, bce, ...) the values themselves, named as they are. `settings`: an
    evolution's, whose fitness "sae" sums over a generation's samples and pixels, or a
    trainer's, whose "loss" is a mean over a step's images (so sae sums over pixels only)."""
    history = np.asarray(history, dtype=np.float64)
    if "loss" in settings:
        kind, measure, samples = "loss", settings["loss"], 1
    else:
        kind, measure, samples = "fitness", settings.get("fitness", "sae"), samples_per_generation
    if measure == "sae":
        return history / (samples * values_per_sample), MAE_LABEL
    if measure == "mae":
        return history, MAE_LABEL
    return history, f"best {measure} ({kind})"
