"""The page with task routing and annotators: abandoned questions reach a waiting page; a token signs in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_browser import stored, tasks_file

pytestmark = pytest.mark.browser


def test_the_page_waits_for_questions_another_session_abandoned(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = start_server("mark", "ds", str(tasks_file(tmp_path, 10)), "--batch-size", "5",
                          env={"BINANNO_RESEND_AFTER": "2"})
    assert len(server.questions("ds-gone")) == 5  # fetched, then that annotator left
    page = browser.new_page()
    page.goto(server.url + "/?session=stays")
    for _ in range(10):  # its own 5, then (after resend_after) the 5 the other session left
        page.wait_for_function("window.binanno.current !== null", timeout=60_000)
        page.keyboard.press("a")
    page.wait_for_selector("#done:not([hidden])")
    page.click("#save")
    page.wait_for_function("window.binanno.outbox.length === 0")
    rows = stored(server.db, "ds")
    assert len(rows) == 10 and {r["_session_id"] for r in rows} == {"ds-stays"}
    page.close()


def test_an_annotator_signs_in_with_their_token_and_answers_as_their_session(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"alice": "alice-secret-1", "bob": "bob-secret-22"}), encoding="utf8")
    server = start_server("mark", "ds", str(tasks_file(tmp_path, 3)), env={"BINANNO_SESSION_TOKENS": str(tokens)})
    page = browser.new_page(http_credentials={"username": "bob", "password": "bob-secret-22"})
    page.goto(server.url + "/")
    for _ in range(3):
        page.wait_for_function("window.binanno.current !== null")
        page.keyboard.press("a")
    page.wait_for_selector("#done:not([hidden])")
    page.click("#save")
    page.wait_for_function("window.binanno.outbox.length === 0")
    assert page.inner_text("#session") == "ds-bob"
    rows = stored(server.db, "ds")
    assert len(rows) == 3 and {r["_session_id"] for r in rows} == {"ds-bob"}
    page.close()
