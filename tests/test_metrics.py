"""Exact-span NER scores and per-label text-classification scores."""

from __future__ import annotations

import pytest

from binanno.metrics import ner_scores, prf, textcat_scores


def test_prf_handles_empty_counts() -> None:
    assert prf(0, 0, 0) == {"p": 0.0, "r": 0.0, "f": 0.0}
    assert prf(1, 1, 2) == pytest.approx({"p": 0.5, "r": 1 / 3, "f": 0.4})


def test_ner_scores_count_only_exact_matches_of_the_given_labels() -> None:
    gold = [[(0, 5, "PER"), (10, 14, "LOC")], [(0, 3, "ORG"), (5, 8, "MISC")]]
    pred = [[(0, 5, "PER"), (10, 13, "LOC")], [(0, 3, "PER"), (5, 8, "MISC")]]
    scores = ner_scores(gold, pred, ["PER", "LOC", "ORG"])
    # tp: PER 0-5; fp: LOC 10-13, PER 0-3; fn: LOC 10-14, ORG 0-3. MISC is not scored.
    assert scores["p"] == pytest.approx(1 / 3) and scores["r"] == pytest.approx(1 / 3)
    assert scores["labels"]["PER"] == pytest.approx({"p": 0.5, "r": 1.0, "f": 2 / 3})
    assert scores["labels"]["ORG"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    with pytest.raises(ValueError):
        ner_scores(gold, pred[:1], ["PER"])


def test_textcat_scores_with_auc_and_exact_set_accuracy() -> None:
    gold = [["spam"], [], ["spam"], []]
    probs = [{"spam": 0.9}, {"spam": 0.6}, {"spam": 0.4}, {"spam": 0.1}]
    scores = textcat_scores(gold, probs, ["spam"])
    assert scores["accuracy"] == 0.5
    assert scores["labels"]["spam"]["p"] == 0.5 and scores["labels"]["spam"]["r"] == 0.5
    assert scores["labels"]["spam"]["auc"] == pytest.approx(0.75)
    assert textcat_scores([["a"], ["a"]], [{"a": 0.2}, {"a": 0.7}], ["a"])["labels"]["a"]["auc"] is None
