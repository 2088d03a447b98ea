"""The page in a real headless Chromium (Debian's), against the real server in a subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_jsonl

from binanno.components.db import Database

pytestmark = pytest.mark.browser


def stored(db_path: Path, dataset: str) -> list[dict[str, Any]]:
    db = Database(db_path)
    try:
        return list(db.get_answers(dataset)) if dataset in db else []
    finally:
        db.close()


def current_hash(page: Any) -> int:
    return page.evaluate("window.binanno.current && window.binanno.current._task_hash")


def tasks_file(tmp_path: Path, n: int) -> Path:
    texts = [f"Sentence number {i} mentions Acme Corp." for i in range(n)]
    rows = [{"text": t, "spans": [{"start": t.index("Acme"), "end": t.index("Acme") + 9, "label": "ORG"}]} for t in texts]
    return write_jsonl(tmp_path / "tasks.jsonl", rows)


def test_keys_answer_undo_and_save(browser: Any, start_server: Any, tmp_path: Path) -> None:
    server = start_server("mark", "review", str(tasks_file(tmp_path, 30)))
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("mark.span")
    assert page.inner_text("mark.span").startswith("Acme Corp")

    first = current_hash(page)
    page.wait_for_timeout(400)  # on screen for at least 0.4 s
    page.keyboard.press("a")
    second = current_hash(page)
    page.keyboard.press("x")
    third = current_hash(page)
    page.keyboard.press(" ")
    assert current_hash(page) not in (first, second, third)
    page.keyboard.press("Backspace")  # undo the ignore: the same question is back
    assert current_hash(page) == third
    assert page.evaluate("window.binanno.outbox.length") == 2
    assert stored(server.db, "review") == []  # held client-side until sent

    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")
    page.wait_for_selector(".history-item.sent")
    answers = {t["_task_hash"]: t["answer"] for t in stored(server.db, "review")}
    assert answers == {first: "accept", second: "reject"}
    # Each answer records how long its question was on screen (for `stats`).
    seconds = {t["_task_hash"]: t["_view_seconds"] for t in stored(server.db, "review")}
    assert seconds[first] >= 0.4 and 0 <= seconds[second] < 60
    page.close()


def test_batches_are_sent_on_their_own_and_the_end_is_clear(browser: Any, start_server: Any, tmp_path: Path) -> None:
    server = start_server("mark", "small", str(tasks_file(tmp_path, 13)), "--batch-size", "5")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("mark.span")
    for _ in range(13):
        page.wait_for_function("window.binanno.current !== null")  # questions arrive in batches of 5
        page.keyboard.press("a")
    page.wait_for_selector("#done:not([hidden])")
    assert "No more questions" in page.inner_text("#done")
    assert len(stored(server.db, "small")) == 5  # the oldest batch went; the newest 5 stay undoable
    page.click("#save")
    page.wait_for_function("window.binanno.outbox.length === 0")
    rows = stored(server.db, "small")
    assert len(rows) == 13 and {r["answer"] for r in rows} == {"accept"}
    assert "Every answer is saved" in page.inner_text("#done")
    page.close()


def test_named_session_and_flush_when_the_tab_closes(browser: Any, start_server: Any, tmp_path: Path) -> None:
    server = start_server("mark", "team", str(tasks_file(tmp_path, 10)))
    page = browser.new_page()
    page.goto(server.url + "/?session=alice")
    page.wait_for_selector("mark.span")
    page.keyboard.press("x")
    page.keyboard.press("a")
    page.goto("about:blank")  # leaving the page flushes what it held
    for _ in range(50):
        rows = stored(server.db, "team")
        if len(rows) == 2:
            break
        page.wait_for_timeout(100)
    assert sorted(r["answer"] for r in rows) == ["accept", "reject"]
    assert {r["_session_id"] for r in rows} == {"team-alice"}
    page.close()


def test_text_is_rendered_as_text_never_html(browser: Any, start_server: Any, tmp_path: Path) -> None:
    text = 'Hello <b>bold</b><img src=x onerror="window.pwned=1"><script>window.pwned=2</script> Acme'
    source = write_jsonl(tmp_path / "evil.jsonl", [{"text": text, "spans": [{"start": len(text) - 4, "end": len(text), "label": "<i>ORG</i>"}]}])
    server = start_server("mark", "evil", str(source))
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("mark.span")
    assert page.inner_text(".card-text").startswith("Hello <b>bold</b><img")
    assert page.locator(".card-text b, .card-text img, .card-text script, .card-text i").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.get_attribute("mark.span", "data-label") == "<i>ORG</i>"  # drawn by CSS from the attribute
    page.close()


def test_label_questions_show_the_label_above_the_text(browser: Any, start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "labels.jsonl", [{"text": "Free entry to win a prize!"}])
    server = start_server("mark", "cats", str(source), "--label", "SPAM")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".card-label:not([hidden])")
    assert page.inner_text(".card-label") == "SPAM"
    page.screenshot(path=str(tmp_path / "label.png"))
    page.close()


def test_verify_questions_show_every_span_and_ask_about_all_of_them(browser: Any, start_server: Any, tmp_path: Path) -> None:
    text = "Alice Smith joined Acme Corp."
    spans = [{"start": 0, "end": 11, "label": "PERSON"}, {"start": 19, "end": 28, "label": "ORG"}]
    source = write_jsonl(tmp_path / "verify.jsonl", [{"text": text, "spans": spans, "_complete": True}])
    server = start_server("mark", "checked", str(source))
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".card-label:not([hidden])")
    assert page.inner_text(".card-label") == "Are these all of its entities, and all right?"
    assert page.locator("mark.span").count() == 2
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")
    (row,) = stored(server.db, "checked")
    assert row["answer"] == "accept" and row["_complete"] is True and row["_question"] == "verify"
    page.close()


def test_the_content_security_policy_blocks_nothing_the_page_needs(browser: Any, start_server: Any, tmp_path: Path) -> None:
    server = start_server("mark", "csp", str(tasks_file(tmp_path, 10)))
    page = browser.new_page(bypass_csp=False)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => console.error('CSP violation ' + e.violatedDirective))")
    response = page.goto(server.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("mark.span")
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".history-item.sent")  # not wait_for_function: it needs eval
    assert [r["answer"] for r in stored(server.db, "csp")] == ["accept"]
    page.keyboard.press("x")
    assert not [m for m in messages if "Content Security Policy" in m or "CSP violation" in m], messages
    page.goto("about:blank")  # sendBeacon (text/plain, same Origin) passes the CSP and the Origin check
    for _ in range(50):
        if len(stored(server.db, "csp")) == 2:
            break
        page.wait_for_timeout(100)
    assert sorted(r["answer"] for r in stored(server.db, "csp")) == ["accept", "reject"]
    page.close()
