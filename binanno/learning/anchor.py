"""A pull towards the starting weights after each online update (a proximal, L2-SP style penalty).

Online steps on a handful of partial answers move every weight of a pretrained model, also
the ones that encode what it already knew; weight decay (``l2``) pulls towards zero, which
for a pretrained model is forgetting too. This keeps a copy of the weights the model started
from and, after each optimizer step, moves every weight a share ``strength`` of the way back
to it: the gradient step of the penalty ``strength / 2 * |w - w0|^2``. Directions the answers
keep pushing on survive (each step adds back what the pull removed); directions that only
one batch's noise pushed on decay back to the start.
"""

from __future__ import annotations

from typing import Any, Callable


class Anchor:
    """Pulls a model's parameters towards a copy of their starting values."""

    def __init__(self, strength: float) -> None:
        self.strength = float(strength)
        self._start: list[tuple[Any, str, Any]] | None = None

    def start(self, snapshot: Callable[[], list[tuple[Any, str, Any]]]) -> None:
        """Remember the starting parameters, once: ``snapshot()`` gives (thinc node, name, array copy) triples."""
        if self._start is None and self.strength > 0:
            self._start = [(node, name, value) for node, name, value in snapshot() if hasattr(value, "shape")]

    def pull(self) -> None:
        """Move every remembered parameter ``strength`` of the way back to its starting value."""
        if self._start is None or self.strength <= 0:
            return
        for node, name, w0 in self._start:
            w = node.get_param(name)
            if w.shape != w0.shape:  # a label added after the start grew the layer: leave it
                continue
            w -= self.strength * (w - w0)
            node.set_param(name, w)
