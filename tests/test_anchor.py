"""The pull towards the starting weights (binanno.learning.anchor), on a real small NER."""

from __future__ import annotations

import numpy
from fixtures_ner import LABELS, span_answer, trained_ner_dir

from binanno.learning.anchor import Anchor
from binanno.models.spacy_ner import SpacyNER

TEXT = "I saw Tom at Lidl and Aldi today."


def weights(model: SpacyNER) -> list[numpy.ndarray]:
    return [node.get_param(name).copy() for node in model.ner.model.walk() for name in node.param_names if node.has_param(name)]


def distance(a: list[numpy.ndarray], b: list[numpy.ndarray]) -> float:
    return float(sum(numpy.abs(x - y).sum() for x, y in zip(a, b)))


def moved(anchor: float) -> float:
    """How far five identical updates take the weights from where they started."""
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, replay=0, dropout=0.0, learn_rate=0.01, anchor=anchor)
    start = weights(model)
    for _ in range(5):
        model.update([span_answer(TEXT, 6, 9, "ORG", "reject"), span_answer(TEXT, 13, 17, "ORG", "accept")])
    return distance(start, weights(model))


def test_the_anchor_keeps_updates_closer_to_the_starting_weights() -> None:
    free, anchored = moved(0.0), moved(0.2)
    assert 0 < anchored < free


def test_a_full_pull_puts_back_the_starting_weights() -> None:
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, replay=0, dropout=0.0)
    start = weights(model)
    anchor = Anchor(1.0)
    anchor.start(model.snapshot)
    model.update([span_answer(TEXT, 6, 9, "ORG", "reject")])
    assert distance(start, weights(model)) > 0
    anchor.pull()
    assert distance(start, weights(model)) < 1e-5  # w - (w - w0) is w0 up to rounding


def test_no_strength_copies_nothing() -> None:
    calls = []
    anchor = Anchor(0.0)
    anchor.start(lambda: calls.append(1) or [])
    anchor.pull()
    assert calls == []
