"""metric.iaa.*: agreement per label between sessions, computed by the maintained libraries, checked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from binanno.agreement import agreement, binary_ratings, doc_ratings, span_ratings
from tests.conftest import run_cli, write_jsonl

# Ten questions; b disagrees with a on two: observed 0.8, chance 0.5, so Cohen's and Fleiss' kappa
# are (0.8 - 0.5) / (1 - 0.5) = 0.6; Krippendorff's alpha (nominal, 20 values, 4 disagreeing
# pairs) is 1 - 19 * 4 / (2 * 10 * 10) = 0.62.
A = ["accept"] * 5 + ["reject"] * 5
B = ["accept"] * 4 + ["reject"] * 5 + ["accept"]


def answers(session: str, verdicts: list[str], label: str = "WEATHER", start: int = 0) -> list[dict[str, Any]]:
    return [{"text": f"Sentence number {start + i} about the weather.", "label": label, "answer": answer,
             "_session_id": f"ds-{session}", "_timestamp": 1_700_000_000 + 6 * i, "_view_seconds": 2.0 + i % 3}
            for i, answer in enumerate(verdicts)]


def test_two_sessions_binary_by_hand() -> None:
    result = agreement(binary_ratings(answers("a", A) + answers("b", B))["WEATHER"])
    assert result["items"] == 10 and result["sessions"] == 2 and result["observed"] == 0.8
    assert result["cohen_kappa"] == pytest.approx(0.6) and result["fleiss_kappa"] == pytest.approx(0.6)
    assert result["krippendorff_alpha"] == pytest.approx(0.62)


def test_three_sessions_have_no_cohen_but_fleiss_and_alpha() -> None:
    result = agreement(binary_ratings(answers("a", A) + answers("b", B) + answers("c", A))["WEATHER"])
    assert result["sessions"] == 3 and result["cohen_kappa"] is None
    assert 0.6 < result["fleiss_kappa"] < 1 and 0.6 < result["krippendorff_alpha"] < 1


def test_one_category_only_is_undefined_not_an_error() -> None:
    result = agreement(binary_ratings(answers("a", ["accept"] * 4) + answers("b", ["accept"] * 4))["WEATHER"])
    assert result["observed"] == 1.0 and result["krippendorff_alpha"] is None and result["cohen_kappa"] is None


def test_doc_ratings_per_option() -> None:
    def choice(session: str, picks: list[list[str]]) -> list[dict[str, Any]]:
        return [{"text": f"text {i}", "options": [{"id": "SPORT"}, {"id": "POLITICS"}], "accept": p, "answer": "accept",
                 "_session_id": session} for i, p in enumerate(picks)]

    ratings = doc_ratings(choice("a", [["SPORT"], ["POLITICS"], [], ["SPORT", "POLITICS"]])
                          + choice("b", [["SPORT"], ["SPORT"], [], ["SPORT", "POLITICS"]]))
    assert sorted(ratings) == ["POLITICS", "SPORT"]
    sport, politics = agreement(ratings["SPORT"]), agreement(ratings["POLITICS"])
    assert sport["items"] == politics["items"] == 4
    assert sport["observed"] == 0.75 and politics["observed"] == 0.75


def test_span_ratings_token_by_token() -> None:
    tokens = [{"text": w, "id": i} for i, w in enumerate("Alice met Bob in Paris".split())]

    def manual(session: str, spans: list[tuple[int, int, str]]) -> dict[str, Any]:
        return {"text": "Alice met Bob in Paris", "tokens": tokens, "answer": "accept", "_session_id": session,
                "spans": [{"token_start": a, "token_end": b, "label": label} for a, b, label in spans]}

    ratings = span_ratings([manual("a", [(0, 0, "PERSON"), (2, 2, "PERSON"), (4, 4, "GPE")]),
                            manual("b", [(0, 0, "PERSON"), (4, 4, "GPE")])])
    person, gpe = agreement(ratings["PERSON"]), agreement(ratings["GPE"])
    assert person["items"] == gpe["items"] == 5  # one item per token
    assert person["observed"] == 0.8 and gpe["observed"] == 1.0 and gpe["cohen_kappa"] == 1.0


def test_metric_iaa_binary_and_stats_per_annotator(tmp_path: Path, home: Path) -> None:
    source = write_jsonl(tmp_path / "answers.jsonl", answers("a", A) + answers("b", B)
                         + answers("a", ["accept", "reject"], label="SPORT", start=100))
    db = str(tmp_path / "x.db")
    assert run_cli("db-in", "ds", str(source), "--db", db, home=home).returncode == 0
    result = run_cli("metric.iaa.binary", "ds", "--json", "--db", db, home=home)
    assert result.returncode == 0, result.stderr
    labels = json.loads(result.stdout)["labels"]
    assert labels["WEATHER"]["cohen_kappa"] == pytest.approx(0.6) and labels["WEATHER"]["items"] == 10
    assert labels["SPORT"]["items"] == 0  # only a answered those
    table = run_cli("metric.iaa.binary", "ds", "--db", db, home=home).stdout
    assert "WEATHER" in table and "0.600" in table and "0.620" in table

    stats = json.loads(run_cli("stats", "ds", "--json", "--db", db, home=home).stdout)
    assert stats["session_speed"]["ds-b"] == {"median_seconds": 3.0, "per_minute": 11.11}  # 10 answers in 54 s
    assert "a minute" in run_cli("stats", "ds", "--db", db, home=home).stdout

    lone = write_jsonl(tmp_path / "lone.jsonl", answers("a", A))
    run_cli("db-in", "solo", str(lone), "--db", db, home=home)
    refused = run_cli("metric.iaa.binary", "solo", "--db", db, home=home)
    assert refused.returncode == 1 and "annotations_per_task" in refused.stderr and "Traceback" not in refused.stderr
