"""Prodigy's `compare` and `diff` interfaces in a real headless Chromium, answers stored by the real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_jsonl
from test_browser import stored

pytestmark = pytest.mark.browser


def test_compare_shows_both_versions_and_the_pick_is_stored(browser: Any, start_server: Any, tmp_path: Path) -> None:
    rows = [{"id": i, "input": {"text": f"Translate sentence {i}"}, "accept": {"text": f"system {i}"},
             "reject": {"html": f"<b>baseline {i}</b><script>window.pwned = 1</script>"},
             "mapping": {"A": "accept", "B": "reject"}} for i in range(2)]
    server = start_server("mark", "ab", str(write_jsonl(tmp_path / "ab.jsonl", rows)), "--view-id", "compare")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".compare-version.accept")
    assert page.inner_text(".compare-input") == "Translate sentence 0"
    assert "system 0" in page.inner_text(".compare-version.accept")
    assert page.inner_text(".compare-version.reject b") == "baseline 0" and page.evaluate("window.pwned") is None
    page.keyboard.press("a")
    page.wait_for_function("window.binanno.current && window.binanno.current.id === 1")
    page.keyboard.press("x")
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")
    answers = sorted(stored(server.db, "ab"), key=lambda a: a["id"])
    assert [(a["answer"], a["accept"]["text"], a["mapping"]["A"]) for a in answers] == [
        ("accept", "system 0", "accept"), ("reject", "system 1", "accept")]
    page.close()


def test_diff_marks_removed_and_added_words(browser: Any, start_server: Any, tmp_path: Path) -> None:
    rows = [{"reject": {"text": "The cat sat on the mat."}, "accept": {"text": "The black cat sat on a mat."}}]
    server = start_server("mark", "fixes", str(write_jsonl(tmp_path / "fixes.jsonl", rows)), "--view-id", "diff")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".diff-text")
    assert page.inner_text(".diff-text") == "The black cat sat on thea mat."
    assert [e.inner_text() for e in page.query_selector_all(".diff-del")] == ["the"]
    assert [e.inner_text() for e in page.query_selector_all(".diff-ins")] == ["black ", "a"]
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")
    (answer,) = stored(server.db, "fixes")
    assert answer["answer"] == "accept" and answer["accept"]["text"] == "The black cat sat on a mat."
    page.close()


def test_spans_shows_overlapping_spans_read_only(browser: Any, start_server: Any, tmp_path: Path) -> None:
    text = "Tim Cook visited London."
    rows = [{"text": text, "spans": [{"start": 0, "end": 8, "label": "PERSON_GOLD"}, {"start": 0, "end": 3, "label": "PERSON_PRED"},
                                     {"start": 17, "end": 23, "label": "GPE_GOLD"}]}]
    server = start_server("mark", "errors", str(write_jsonl(tmp_path / "errors.jsonl", rows)), "--view-id", "spans")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".tok")
    labels = [e.get_attribute("data-label") for e in page.query_selector_all(".span-tag")]
    assert sorted(labels) == ["GPE_GOLD", "PERSON_GOLD", "PERSON_PRED"]  # the overlapping pair is drawn too
    assert page.is_hidden(".label-bar")
    assert page.get_attribute(".span-tag >> nth=0", "title") is None  # no "click to remove" on a read-only view
    page.click(".tok >> nth=4")  # a click selects nothing: read-only
    page.keyboard.press("x")
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")
    (answer,) = stored(server.db, "errors")
    assert answer["answer"] == "reject" and len(answer["spans"]) == 3
    page.close()
