"""Rehearsal (binanno.learning.rehearsal): the starting model's sure analyses of unanswered texts."""

from __future__ import annotations

from fixtures_ner import LABELS, complete_task, make_sentences, span_answer, trained_ner_dir

from binanno.learning.rehearsal import Rehearsal
from binanno.metrics import ner_scores
from binanno.models.spacy_ner import SpacyNER


def test_the_pool_keeps_unanswered_texts_and_labels_each_once() -> None:
    pool: Rehearsal[str] = Rehearsal(size=2, capacity=3)
    for text in ["a", "b", "", "c", "d"]:
        pool.saw(text)
    assert len(pool) == 3  # "" is skipped, "d" is past the capacity
    pool.answered("b")
    calls: list[list[str]] = []

    def label(texts: list[str]) -> list[str]:
        calls.append(texts)
        return [t.upper() for t in texts]

    assert sorted(pool.sample(label)) == [("a", "A"), ("c", "C")]
    assert sorted(pool.sample(label)) == [("a", "A"), ("c", "C")]
    assert len(calls) == 1  # labels are made once per text
    pool.saw("b")  # an answered text does not come back
    assert len(pool) == 2
    assert Rehearsal(size=0).sample(label) == []


def test_rehearsal_labels_come_from_the_starting_model() -> None:
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, replay=0, dropout=0.0, rehearse=4)
    unanswered = make_sentences(8, seed=21)
    list(model([{"text": t} for t, _ in unanswered]))  # the model scores them: they enter the pool
    assert len(model.rehearsal) == 8
    text, ents = unanswered[0]
    model.update([complete_task(text, ents)])
    assert len(model.rehearsal) == 7  # the answered text left the pool
    # The model gets these sentences right, so its sure entities are the gold ones.
    for (sample, (spans, outside)) in model.rehearsal.sample(model._silver):
        gold = dict(unanswered)[sample]
        example = model._silver_example(sample, (spans, outside))
        assert {(e.start_char, e.end_char, e.label_) for e in example.reference.ents} <= set(gold)
        assert outside and all(example.reference[i].ent_iob_ == "O" for i in outside)


def test_rehearsal_keeps_what_the_model_knew_through_wrong_rejects() -> None:
    # An annotator who rejects every true entity: without rehearsal the model forgets them.
    evaluation = make_sentences(30, seed=11)
    texts, gold = [t for t, _ in evaluation], [e for _, e in evaluation]
    pool = make_sentences(40, seed=5)
    scores = {}
    for rehearse in (0, 10):
        model = SpacyNER.load(str(trained_ner_dir()), LABELS, replay=0, dropout=0.0, learn_rate=0.003,
                              rehearse=rehearse, guard_every=0, trust=False)  # trust would (rightly) stop it
        list(model([{"text": t} for t, _ in make_sentences(60, seed=7)]))
        wrong = [span_answer(t, s, e, lab, "reject") for t, ents in pool for s, e, lab in ents]
        for i in range(0, len(wrong), 10):
            model.update(wrong[i : i + 10])
        scores[rehearse] = ner_scores(gold, model.predict(texts), LABELS)["f"]
    assert scores[10] > scores[0]
