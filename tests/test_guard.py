"""The update guard: held-out answers, and updates that hurt on them rolled back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy
import pytest
from fixtures_ner import LABELS, complete_task, make_sentences, span_answer, trained_ner_dir

from binanno.learning.guard import UpdateGuard, answer_f1, paired_chances, served_name
from binanno.metrics import ner_scores
from binanno.models.spacy_ner import SpacyNER


def weights(model: SpacyNER) -> list[numpy.ndarray]:
    return [node.get_param(name).copy() for node in model.ner.model.walk() for name in node.param_names if node.has_param(name)]


def test_answer_f1_counts_accepts_rejects_and_complete_answers() -> None:
    answers = [
        ("a", {(0, 1, "X")}, {(2, 3, "X")}, None),  # partial: one accept, one reject
        ("b", set(), set(), {(0, 1, "Y"), (4, 5, "Y")}),  # complete
    ]
    # Predicting the accept (tp), the reject (fp), one complete span (tp) and an extra one (fp), missing one (fn).
    predictions = [[(0, 1, "X"), (2, 3, "X"), (9, 9, "X")], [(0, 1, "Y"), (7, 8, "Y")]]
    # (9, 9) in a partial answer is unknown, so it counts for nothing.
    assert answer_f1(answers, predictions) == 2 * 2 / (2 * 2 + 2 + 1)
    assert answer_f1([("c", set(), {(0, 1, "X")}, None)], [[]]) == 1.0


def test_guard_holds_out_every_nth_complete_text_up_to_its_size() -> None:
    guard = UpdateGuard(every=3, size=2)
    held = [k for k in range(12) if guard.hold(k, complete=True)]
    assert held == [2, 5] and guard.held(2) and not guard.held(3)
    assert not any(UpdateGuard(every=0).hold(k, complete=True) for k in range(10))
    # Yes/no answers are never held out: on them the guard rewarded a model that proposes less.
    assert not any(UpdateGuard(every=1).hold(k, complete=False) for k in range(10))


def test_updates_that_hurt_on_held_out_answers_are_not_served_and_then_rolled_back() -> None:
    # Online steps only (refit=0), so that each update is one step of the guard's patience.
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, learn_rate=0.01, replay=0, dropout=0.0, guard_every=1, guard_size=5,
                          refit=0)
    sentences = make_sentences(20, seed=3)
    # Five held-out texts, answered completely and correctly (the model gets them right).
    model.update([complete_task(t, e) for t, e in sentences[:5]])
    assert len(model.guard.keys) == 5 and model.guard.score(model) == 1.0
    before = weights(model)
    texts = [t for t, _ in sentences]
    predicted = model.predict(texts)
    # Then wrong answers: every true entity rejected, many times over. Each step is shown worse: the
    # start stays what is served, and after three in a row (patience) the learner goes back to it.
    wrong = [span_answer(t, s, e, lab, "reject") for t, ents in sentences[5:] for s, e, lab in ents]
    for _ in range(2):
        model.update(wrong)
        assert model.guard.serving == "start" and model.predict(texts) == predicted
        assert model.guard.chances[1] >= 0.95
    assert served_name(model).startswith("the starting model (the latest updates scored worse")
    model.update(wrong)
    assert (model.guard.kept, model.guard.undone) == (0, 1) and model.guard.serving == "learner"
    assert model.guard.score(model) == 1.0
    assert all(numpy.array_equal(a, b) for a, b in zip(before, weights(model)))


def test_a_refit_on_wrong_answers_is_not_served() -> None:
    # A refit on answers that contradict what the model gets right is judged on the held-out answers like any online step.
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, learn_rate=0.01, replay=0, dropout=0.0, guard_every=1, guard_size=5,
                          refit=8)
    sentences = make_sentences(20, seed=3)
    model.update([complete_task(t, e) for t, e in sentences[:5]])
    texts = [t for t, _ in sentences]
    predicted = model.predict(texts)
    wrong = [span_answer(t, s, e, lab, "reject") for t, ents in sentences[5:] for s, e, lab in ents]
    model.update(wrong)
    assert model.refits.done == 1 and model.guard.serving == "start" and model.predict(texts) == predicted


def test_what_is_served_is_what_is_saved_and_the_learner_goes_on(tmp_path: Path) -> None:
    import spacy

    model = SpacyNER.load(str(trained_ner_dir()), LABELS, learn_rate=0.01, replay=0, dropout=0.0, guard_every=1, guard_size=5)
    sentences = make_sentences(20, seed=3)
    model.update([complete_task(t, e) for t, e in sentences[:5]])
    texts = [t for t, _ in sentences]
    start = model.predict(texts)
    model.update([span_answer(t, s, e, lab, "reject") for t, ents in sentences[5:] for s, e, lab in ents])
    assert model.guard.serving == "start" and model.guard.undone == 0
    model.to_disk(tmp_path / "saved")
    nlp = spacy.load(tmp_path / "saved")
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)] == start
    assert model.predict(texts) == start
    assert model.predict_current(texts) != start  # the learner keeps what it learnt (the next questions come from it)


def test_a_learner_that_is_not_shown_worse_is_served() -> None:
    # A new NER taught from complete answers: it gets better, the guard serves it all along.
    model = SpacyNER.load("blank:en", LABELS, replay=20, dropout=0.1, seed=0, guard_every=3, guard_size=20)
    sentences = make_sentences(240, seed=5)
    served: list[str] = []
    for i in range(0, 240, 10):
        model.update([complete_task(t, e) for t, e in sentences[i:i + 10]])
        served.append(model.guard.serving)
    assert set(served) == {"learner"} and model.guard.kept > 0
    texts, gold = [t for t, _ in sentences[:40]], [e for _, e in sentences[:40]]
    assert ner_scores(gold, model.predict(texts), LABELS)["f"] > 0.5


def test_paired_chances_need_the_texts_to_agree() -> None:
    rng = numpy.random.default_rng(0)
    same = numpy.array([[1, 0, 0], [0, 1, 1], [2, 0, 0]] * 10)
    assert paired_chances(same, same, rng) == (0.0, 0.0)
    better = same.copy()
    better[:, 2] = 0  # no misses on any text
    up, down = paired_chances(better, same, rng)
    assert up > 0.99 and down == 0.0
    # One text of thirty better and one worse: no evidence either way.
    mixed = same.copy()
    mixed[1] = (1, 0, 0)
    mixed[2] = (1, 0, 1)
    up, down = paired_chances(mixed, same, rng)
    assert up < 0.95 and down < 0.95


@pytest.mark.parametrize("settings", [{}, {"update": "beam"}, {"update": "beam", "anchor": 0.02, "rehearse": 10}])
def test_honest_answers_on_text_the_model_gets_right_do_not_lower_its_accuracy(settings: dict[str, Any]) -> None:
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, **settings)
    evaluation = make_sentences(40, seed=11)
    texts, gold = [t for t, _ in evaluation], [e for _, e in evaluation]
    start = ner_scores(gold, model.predict(texts), LABELS)["f"]
    # An honest annotator answers ner.teach's questions: accept exactly the gold entities.
    pool = make_sentences(60, seed=12)
    truth = {t: set(e) for t, e in pool}
    questions = list(model([{"text": t} for t, _ in pool]))
    for i in range(0, len(questions), 10):
        batch = []
        for _, q in questions[i : i + 10]:
            span = q["spans"][0]
            key = (span["start"], span["end"], span["label"])
            batch.append({**q, "answer": "accept" if key in truth[q["text"]] else "reject"})
        model.update(batch)
    assert ner_scores(gold, model.predict(texts), LABELS)["f"] >= start
