"""Refits (binanno.learning.refit): retraining from the starting weights on every answer so far."""

from __future__ import annotations

from fixtures_ner import LABELS, complete_task, make_sentences

from binanno.learning.refit import RefitSchedule
from binanno.metrics import ner_scores
from binanno.models.spacy_ner import SpacyNER


def test_refits_come_at_each_doubling_of_the_answered_texts() -> None:
    schedule = RefitSchedule(first=32)
    assert [n for n in range(1, 300) if schedule.due(n)] == [32, 64, 128, 256]
    assert schedule.done == 4
    jump = RefitSchedule(first=10)
    assert jump.due(45) and jump.next == 80 and not jump.due(79)  # a big batch moves past several marks at once
    off = RefitSchedule(first=0)
    assert not any(off.due(n) for n in range(1000))


def test_a_refit_learns_what_single_online_steps_miss() -> None:
    # A new NER, complete answers arriving 8 at a time: online steps alone see each text once.
    pool, evaluation = make_sentences(48, seed=3), make_sentences(30, seed=17)
    texts, gold = [t for t, _ in evaluation], [e for _, e in evaluation]
    scores, models = {}, {}
    for refit in (0, 16):
        model = SpacyNER.load("blank:en", LABELS, replay=0, dropout=0.1, seed=0, refit=refit, guard_every=0)
        tasks = [complete_task(t, e) for t, e in pool]
        for i in range(0, len(tasks), 8):
            model.update(tasks[i : i + 8])
        scores[refit], models[refit] = ner_scores(gold, model.predict(texts), LABELS)["f"], model
    assert models[16].refits.done == 2 and models[0].refits.done == 0  # at 16 and 32 answered texts
    assert scores[16] > scores[0] + 0.1, scores


def test_a_new_ner_refits_by_default_and_a_pretrained_one_refits_from_its_own_weights() -> None:
    from fixtures_ner import trained_ner_dir

    assert SpacyNER.load("blank:en", LABELS).settings["refit"] == 8
    assert SpacyNER.load("blank:en", LABELS, refit=0).settings["refit"] == 0
    assert SpacyNER.load(str(trained_ner_dir()), LABELS).settings["refit"] == 0  # off: a refit stalls the server's worker
    # A pretrained NER refits from the weights it was loaded with (and rehearses what they found), so
    # honest answers on texts it already gets right leave it as good as it was on other texts.
    pool, evaluation = make_sentences(16, seed=5), make_sentences(30, seed=17)
    texts, gold = [t for t, _ in evaluation], [e for _, e in evaluation]
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, seed=0, guard_every=0, refit=8)
    assert model.settings["refit_average"]
    before = ner_scores(gold, model.predict(texts), LABELS)["f"]
    tasks = [complete_task(t, e) for t, e in pool]
    for i in range(0, len(tasks), 4):
        model.update(tasks[i : i + 4])
    assert model.refits.done == 1 + (len({t for t, _ in pool}) >= 16)  # at 8 (and 16) answered texts
    assert ner_scores(gold, model.predict(texts), LABELS)["f"] >= before - 0.02, before


def test_a_refit_can_end_on_the_average_of_its_steps() -> None:
    pool, evaluation = make_sentences(48, seed=3), make_sentences(30, seed=17)
    texts, gold = [t for t, _ in evaluation], [e for _, e in evaluation]
    model = SpacyNER.load("blank:en", LABELS, replay=0, seed=0, refit=16, guard_every=0, refit_average=True)
    tasks = [complete_task(t, e) for t, e in pool]
    for i in range(0, len(tasks), 8):
        model.update(tasks[i : i + 8])
    assert model.refits.done == 2 and model.optimizer.averages is None  # online steps go on without averaging
    assert ner_scores(gold, model.predict(texts), LABELS)["f"] > 0.5
