"""An estimate of how far an online model is from converging, for the page's progress bar."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np


class LossProgress:
    """Progress from the trend of the update losses: has the loss per answer flattened out?

    After each update the loss per answer is recorded. A line fitted to the last ``window``
    points gives the share of the current loss that the trend would remove over the next
    ``window`` updates' worth of answers; progress is one minus that share, smoothed. 0 means
    the loss is still falling fast (answers are changing the model a lot); 1 means it has
    flattened out (more answers of this kind change it little). Before ``min_updates`` updates
    there is no estimate (the page shows "estimating"). It is a guide for the annotator, not a
    guarantee.

    The value shown never goes down: the estimate is noisy (one hard batch raises the loss for a
    while) and a bar that moves backwards (0.82, 0.46, 0.83) reads as lost work, not as noise; so
    the smoothed estimate only raises what is shown. ``estimate`` keeps the raw smoothed value.
    """

    def __init__(self, window: int = 10, min_updates: int = 3, smoothing: float = 0.3) -> None:
        self.points: deque[tuple[int, float]] = deque(maxlen=window)
        self.min_updates = min_updates
        self.smoothing = smoothing
        self.value: float | None = None
        self.estimate: float | None = None
        self._seen_updates = -1

    def record(self, answered: int, loss: float | None) -> float | None:
        """Add one update's (cumulative answers, loss per answer) and return the new estimate."""
        if loss is not None and np.isfinite(loss):
            self.points.append((answered, float(loss)))
        if len(self.points) < self.min_updates:
            return self.value
        x = np.array([p[0] for p in self.points], dtype=float)
        y = np.array([p[1] for p in self.points], dtype=float)
        span = float(np.ptp(x))
        if span == 0:
            return self.value
        slope, intercept = np.polyfit(x, y, 1)
        current = max(float(slope * x[-1] + intercept), float(y.mean()) * 0.1, 1e-9)
        ahead = span / (len(x) - 1) * (self.points.maxlen or len(x))  # answers in one more window
        share = max(0.0, -float(slope)) * ahead / current
        estimate = float(np.clip(1.0 - share, 0.0, 1.0))
        smoothed = estimate if self.estimate is None else self.estimate + self.smoothing * (estimate - self.estimate)
        self.estimate = smoothed
        self.value = smoothed if self.value is None else max(self.value, smoothed)
        return self.value

    def __call__(self, controller: Any, last_update: Any) -> float | None:
        """The ``progress`` component: reads the controller's update count and last loss."""
        if controller.updates != self._seen_updates:
            self._seen_updates = controller.updates
            # Answers learnt from so far, by update count: the answer totals can run ahead of the
            # updates (a fast annotator's batches all arrive before the first update ends), and a
            # flat x gives no trend at all.
            answered = controller.updates * max(1, int(controller.batch_size))
            loss = last_update.get("loss") if isinstance(last_update, dict) else last_update
            per_answer = float(loss) / max(1, int(controller.batch_size)) if isinstance(loss, (int, float)) else None
            return self.record(answered, per_answer)
        return self.value
