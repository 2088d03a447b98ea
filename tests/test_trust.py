"""Trust in the starting model (binanno.learning.trust): its sure entities, judged by the answers."""

from __future__ import annotations

from fixtures_ner import LABELS, complete_task, make_sentences, span_answer, trained_ner_dir

from binanno.learning.trust import StartTrust, settled
from binanno.models.spacy_ner import SpacyNER


def test_settled_counts_what_the_answers_say_about_sure_entities() -> None:
    sure = [(0, 5, "ORG"), (10, 15, "PERSON")]
    assert settled(sure, accepted={(0, 5, "ORG")}, rejected=set(), complete=None) == (1, 0)
    assert settled(sure, accepted=set(), rejected={(10, 15, "PERSON")}, complete=None) == (0, 1)
    assert settled(sure, accepted=set(), rejected=set(), complete={(0, 5, "ORG")}) == (1, 1)  # left out: wrong
    trust = StartTrust()
    assert trust.value == 0.5
    trust.record(1, 3, 1)
    trust.record(2, 0, 4)
    trust.record(1, 4, 0)  # a later answer on text 1 replaces its counts
    assert (trust.right, trust.wrong) == (4, 4) and trust.value == 0.5


def test_answers_against_the_starting_model_loosen_its_anchor() -> None:
    # The small pipeline gets these sentences right: its sure entities are the gold ones.
    sentences = make_sentences(20, seed=9)
    for verdict in ("accept", "reject"):
        model = SpacyNER.load(str(trained_ner_dir()), LABELS, replay=0, dropout=0.0, guard_every=0, rehearse=5)
        list(model([{"text": t} for t, _ in make_sentences(30, seed=4)]))  # texts to rehearse
        answers = [span_answer(t, s, e, lab, verdict) for t, ents in sentences for s, e, lab in ents]
        for i in range(0, len(answers), 10):
            model.update(answers[i : i + 10])
        if verdict == "accept":
            assert model.trust.value > 0.9 and model.anchor.strength > 0.045
            assert len(model._rehearsed()) == 5
        else:
            assert model.trust.value < 0.1 and model.anchor.strength < 0.005
            assert len(model._rehearsed()) == 0  # its sure entities are wrong here: nothing of it is rehearsed
    # A complete answer without the starting model's entity says it was wrong.
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, replay=0, dropout=0.0, guard_every=0)
    text, ents = sentences[0]
    model.update([complete_task(text, ents[1:])])
    assert model.trust.wrong == 1 and model.trust.right == len(ents) - 1
