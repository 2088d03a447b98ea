"""Weight averaging: the model answers with a moving average of its online weights.

Each online step learns from ten answers, most of them rejects, so the weights after any one
step carry that batch's noise: from a start model at F1 0.607 on BTC tweets, one seed's test F1
went 0.621, 0.606, 0.572, 0.582 over four evaluations 50 answers apart and back to 0.637 later.
The classic remedy for noisy online updates is Polyak-Ruppert averaging (Polyak & Juditsky,
SIAM J. Control Optim. 30(4), 1992; spaCy trains its own pipelines with averaged weights,
thinc's ``use_averages``): train the raw weights as before, but predict, score questions and
save with an exponential moving average of them. ``decay`` is the weight of the old average per
update; the first updates use a smaller one, ``(1 + t) / (10 + t)`` as thinc does, so the
average does not lag behind a model that has barely moved. A refit replaces the average with
its result (it is a new fit on every answer, not one more noisy step).
"""

from __future__ import annotations

from typing import Any

Params = list[tuple[Any, str, Any]]  # (thinc node, parameter name, array copy)


class WeightAverage:
    """Keeps the raw (training) weights aside while the model holds their moving average."""

    def __init__(self, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"average must be from 0 (off) to below 1, not {decay}")
        self.decay = float(decay)
        self.raw: Params | None = None  # the online weights; None until the first step (they equal the model's)
        self.steps = 0

    def saved(self) -> Params:
        """A copy of the raw weights, for a model snapshot."""
        return _copies(self.raw or [])

    def load(self, raw: Params) -> None:
        """Put back raw weights from a :meth:`saved` copy (copied again: training changes them in place)."""
        self.raw = _copies(raw)

    def begin(self, current: Params) -> Params:
        """The weights to train from: the raw ones (the model holds ``current``, the average)."""
        return self.raw if self.raw is not None else current

    def end(self, average: Params, trained: Params, reset: bool = False) -> Params:
        """Remember ``trained`` as the raw weights; return the new average to put in the model."""
        self.raw, self.steps = trained, self.steps + 1
        decay = 0.0 if reset else min(self.decay, (1 + self.steps) / (10 + self.steps))
        old = {(id(node), name): value for node, name, value in average}
        out = []
        for node, name, value in trained:
            before = old.get((id(node), name))
            if not hasattr(value, "shape"):  # not a weight (the NER's unseen-label marks): the latest
                out.append((node, name, value))
            elif not decay or before is None or before.shape != value.shape:  # a new label grew the layer
                out.append((node, name, value.copy()))
            else:
                out.append((node, name, decay * before + (1 - decay) * value))
        return out


def _copies(params: Params) -> Params:
    return [(node, name, value.copy() if hasattr(value, "copy") else value) for node, name, value in params]
