"""train_ner: binary answers in, a spaCy pipeline and binary P/R/F out."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from fixtures_ner import LABELS, make_sentences, span_answer, trained_ner, trained_ner_dir

from binanno.errors import UserError
from binanno.models.spacy_ner import SpacyNER, TextAnswers
from binanno.training import evaluate, format_scores, train_ner


@pytest.fixture
def ner() -> SpacyNER:
    """A fresh copy of the small trained NER for each test."""
    return trained_ner()


def binary_answers(n: int, seed: int = 0) -> list[dict]:
    """Accept every gold entity, and reject a wrong label on each one."""
    answers = []
    for text, ents in make_sentences(n, seed=seed):
        for start, end, label in ents:
            answers.append(span_answer(text, start, end, label, "accept"))
            answers.append(span_answer(text, start, end, "ORG" if label == "PERSON" else "PERSON", "reject"))
    return answers


def test_train_from_binary_answers_saves_a_loadable_pipeline(tmp_path: Path) -> None:
    answers = binary_answers(40)
    answers.append({**answers[0], "answer": "ignore"})
    scores = train_ner(answers, tmp_path / "model", labels=None, n_iter=15, eval_split=0.25, seed=0)
    n_texts = len({a["text"] for a in answers})
    assert scores["n_eval"] == round(n_texts * 0.25) and scores["n_train"] == n_texts - scores["n_eval"]
    assert scores["n_answers"] == len(answers) - 1
    assert set(scores["labels"]) == set(LABELS)
    assert scores["losses"][-1] < scores["losses"][0]
    assert scores["micro"]["f"] > 0.8 and scores["micro"]["f"] > scores["baseline"]["micro"]["f"]
    nlp = spacy.load(tmp_path / "model")
    doc = nlp("Yesterday Carol White joined Hooli in town.")
    # Binary answers never say what is *not* an entity, so extra spans are expected here.
    assert ("Carol White", "PERSON") in [(e.text, e.label_) for e in doc.ents]
    table = format_scores(scores)
    assert "micro" in table and "PERSON" in table and str(tmp_path / "model") in table


def test_binary_evaluation_counts(ner: SpacyNER) -> None:
    text = "Yesterday Mike Ross joined Pearson Hardman in town."
    assert ner.predict([text]) == [[(10, 19, "PERSON"), (27, 42, "ORG")]]
    partial = TextAnswers(text)
    partial.add(span_answer(text, 10, 19, "PERSON", "accept"), set(LABELS))  # predicted: TP
    partial.add(span_answer(text, 27, 42, "ORG", "reject"), set(LABELS))  # predicted: FP
    partial.add(span_answer(text, 0, 9, "PERSON", "reject"), set(LABELS))  # not predicted: TN
    partial.add(span_answer(text, 27, 34, "ORG", "accept"), set(LABELS))  # not predicted: FN
    scores = evaluate(ner, [partial])
    person, org = scores["labels"]["PERSON"], scores["labels"]["ORG"]
    assert (person["tp"], person["fp"], person["fn"], person["tn"]) == (1, 0, 0, 1)
    assert (org["tp"], org["fp"], org["fn"], org["tn"]) == (0, 1, 1, 0)
    assert scores["micro"]["p"] == 0.5 and scores["micro"]["r"] == 0.5 and scores["micro"]["acc"] == 0.5
    # A complete annotation also counts every other prediction as a false positive.
    complete = TextAnswers(text, complete=[(10, 19, "PERSON")])
    org = evaluate(ner, [complete])["labels"]["ORG"]
    assert (org["tp"], org["fp"], org["fn"]) == (0, 1, 0)


def test_train_from_a_base_pipeline_without_output(tmp_path: Path) -> None:
    scores = train_ner(binary_answers(10, seed=3), None, base_model=str(trained_ner_dir()), n_iter=1)
    assert scores["output"] is None and scores["n_eval"] == 2


def test_nothing_to_train_is_a_user_error() -> None:
    with pytest.raises(UserError):
        train_ner([{"text": "x", "answer": "accept", "spans": []}], None)
