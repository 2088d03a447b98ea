"""Question types: what the planner asks, and that each type's answers train as the right kind."""

from __future__ import annotations

import pytest
from fixtures_ner import LABELS, make_sentences, trained_ner

from binanno.errors import UserError
from binanno.learning.costs import Costs, edits
from binanno.learning.questions import Calibration, QuestionPlanner
from binanno.models.spacy_ner import SpacyNER


def test_costs_follow_tokens_entities_and_edits() -> None:
    c = Costs()
    assert c.manual(11, 1) == pytest.approx(2 + 5.5 + 2)
    assert c.correct(11, 0) == c.verify(11) < c.manual(11, 1)
    gold = {(0, 5, "PER"), (10, 15, "ORG")}
    assert edits(gold, gold) == 0
    assert edits({(0, 5, "ORG"), (10, 15, "ORG")}, gold) == 1  # one relabel
    assert edits({(0, 3, "PER")}, gold) == 2  # one boundary fix, one add
    assert edits({(20, 25, "PER")}, set()) == 1  # one delete


def test_calibration_learns_that_high_scores_are_often_wrong() -> None:
    cal = Calibration(min_answers=10)
    assert cal(0.9) == 0.9  # identity before enough answers
    for i in range(100):
        cal.add(0.95, i % 2 == 0)  # right half the time
        cal.add(0.05, False)
    cal.fit()
    assert 0.3 < cal(0.95) < 0.7 and cal(0.05) < 0.1


def test_sentence_questions_carry_the_models_best_analysis_and_train_as_complete() -> None:
    model = trained_ner()
    sentences = make_sentences(6, seed=21)
    planner = QuestionPlanner(model, "verify")
    questions = [task for _, task in planner([{"text": t} for t, _ in sentences])]
    assert len(questions) == 6
    truth = dict(sentences)
    for q in questions:
        assert q["_question"] == "verify" and q["_complete"] is True and q["tokens"]
        assert all(s["label"] in LABELS for s in q["spans"])
    # The tiny model knows these templates: its analyses are the gold ones.
    assert sum({(s["start"], s["end"], s["label"]) for s in q["spans"]} == set(truth[q["text"]]) for q in questions) >= 5
    accepted, rejected = questions[0], questions[1]
    fresh = SpacyNER.load("blank:en", LABELS)
    keys = fresh.remember([{**accepted, "answer": "accept"}, {**rejected, "answer": "reject"}])
    # An accepted sentence is complete gold; a rejected one says only "not all right" and is not learnt from.
    assert len(keys) == 1 and fresh.memory[keys[0]].complete is not None
    assert fresh.memory[keys[0]].accepted == {}
    # A binary question stays partial.
    binary = next(task for _, task in QuestionPlanner(model, "binary")([{"text": sentences[2][0]}]))
    (key,) = fresh.remember([{**binary, "answer": "accept"}])
    assert fresh.memory[key].complete is None and len(fresh.memory[key].accepted) == 1


def test_auto_asks_correct_cards_where_the_model_proposes_nothing() -> None:
    model = trained_ner()
    planner = QuestionPlanner(model, "auto")
    # A sentence outside the templates: no candidates, so only a whole-sentence card can find entities.
    asked = [task for _, task in planner([{"text": "zzz qqq www"}])]
    assert [q["_question"] for q in asked] == ["correct"] and asked[0]["spans"] == []


def test_observe_measures_the_miss_rate_on_corrected_sentences() -> None:
    model = trained_ner()
    planner = QuestionPlanner(model, "correct", miss_prior=0.0, miss_weight=1)
    (rate, question), = planner([{"text": "zzz qqq www"}])
    planner.observe([{**question, "answer": "accept", "spans": [{"start": 0, "end": 3, "label": "ORG"}]}])
    assert planner.miss_rate == pytest.approx(1 / 4)  # one missed entity in 3 tokens (+ 1 prior token)


def test_unknown_question_type_is_a_user_error() -> None:
    with pytest.raises(UserError, match="Unknown question type 'clever'"):
        QuestionPlanner(trained_ner(), "clever")
