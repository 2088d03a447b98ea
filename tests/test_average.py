"""Weight averaging: the model predicts with a moving average of its online weights."""

from __future__ import annotations

import numpy
import pytest
from fixtures_ner import LABELS, complete_task, make_sentences, span_answer, trained_ner_dir

from binanno.errors import UserError
from binanno.learning.average import WeightAverage
from binanno.models.spacy_ner import SpacyNER


class Node:
    """The part of a thinc node that a parameter list refers to."""


def test_the_average_moves_a_share_of_the_way_and_a_refit_replaces_it() -> None:
    node = Node()
    average = WeightAverage(0.9)
    start = [(node, "W", numpy.zeros(3))]
    assert average.begin(start) is start  # nothing trained yet: train from the model's own weights
    new = average.end(start, [(node, "W", numpy.ones(3))])
    # The first step uses a decay of (1 + 1) / (10 + 1), not 0.9: the average must not lag a model that barely moved.
    assert numpy.allclose(new[0][2], 1 - 2 / 11)
    assert numpy.array_equal(average.begin(new)[0][2], numpy.ones(3))  # training goes on from the raw weights
    for _ in range(200):
        new = average.end(new, [(node, "W", numpy.full(3, 2.0))])
    assert numpy.allclose(new[0][2], 2.0, atol=1e-6)
    assert numpy.array_equal(average.end(new, [(node, "W", numpy.full(3, 5.0))], reset=True)[0][2], numpy.full(3, 5.0))
    # A layer that grew (a label added) takes the new weights.
    assert average.end(new, [(node, "W", numpy.ones(4))])[0][2].shape == (4,)
    with pytest.raises(ValueError):
        WeightAverage(1.0)


def ner_weights(model: SpacyNER) -> list[numpy.ndarray]:
    return [node.get_param(name).copy() for node in model.ner.model.walk() for name in node.param_names if node.has_param(name)]


def test_the_model_holds_the_average_and_trains_the_raw_weights() -> None:
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, average=0.5, replay=0, guard_every=0, refit=0)  # online steps only
    nodes = [(node, name) for node in model.ner.model.walk() for name in node.param_names if node.has_param(name)]
    start = ner_weights(model)
    sentences = make_sentences(30, seed=5)
    model.update([complete_task(t, e) for t, e in sentences[:10]])
    assert model.average.raw is not None
    raw = {(id(node), name): value for node, name, value in model.average.raw}
    held = ner_weights(model)
    # The model holds start + (1 - d) * (raw - start), d = min(0.5, 2 / 11) after one step.
    d = 2 / 11
    moved = 0
    for (node, name), before, now in zip(nodes, start, held):
        trained = raw[(id(node), name)]
        assert numpy.allclose(now, d * before + (1 - d) * trained, atol=1e-6)
        moved += not numpy.array_equal(before, trained)
    assert moved  # the raw weights did learn
    # A guard snapshot carries the raw weights too: restoring it restores both.
    snapshot = model.snapshot()
    model.update([span_answer(t, s, e, lab, "reject") for t, ents in sentences[10:] for s, e, lab in ents])
    model.restore(snapshot)
    assert all(numpy.array_equal(a, b) for a, b in zip(held, ner_weights(model)))
    assert model.average.raw is not None and all(
        numpy.array_equal(a[2], b[2]) for a, b in zip(model.average.raw, snapshot[-1][2]) if hasattr(a[2], "shape"))
    # Predictions come from the averaged weights, and keep working after updates.
    assert isinstance(model.predict([sentences[0][0]]), list)


def test_an_average_of_one_or_more_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="average"):
        SpacyNER.load(str(trained_ner_dir()), LABELS, average=1.5)
