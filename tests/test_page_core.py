"""The page's core in a real headless Chromium: undo, refused answers, messages, keys, progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_jsonl
from test_browser import current_hash, stored, tasks_file

pytestmark = pytest.mark.browser
RECIPE = str(Path(__file__).parent / "page_recipe.py")


def open_page(browser: Any, server: Any, selector: str = ".card-text") -> Any:  # noqa: F811
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(selector)
    return page


def save(page: Any) -> None:
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")


def test_undo_reaches_back_across_a_batch_boundary(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = start_server("mark", "undo", str(tasks_file(tmp_path, 8)), "--batch-size", "2")
    page = open_page(browser, server, "mark.span")
    hashes = []
    for _ in range(4):
        page.wait_for_function("window.binanno.current !== null")
        hashes.append(current_hash(page))
        page.keyboard.press("a")
    page.wait_for_function("window.binanno.history.filter(h => h.sent).length === 2")
    assert len(stored(server.db, "undo")) == 2  # the oldest batch went; the newest two are still held
    page.keyboard.press("Backspace")
    assert current_hash(page) == hashes[3]
    page.keyboard.press("Backspace")  # the third answer, past the batch that was sent: still undoable
    assert current_hash(page) == hashes[2]
    page.keyboard.press("x")
    page.keyboard.press("x")
    save(page)
    answers = {r["_task_hash"]: r["answer"] for r in stored(server.db, "undo")}
    assert answers == {hashes[0]: "accept", hashes[1]: "accept", hashes[2]: "reject", hashes[3]: "reject"}
    page.close()


def test_a_refused_answer_comes_back_and_the_others_are_stored(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    text = "Alice Smith joined Acme Corp."
    rows = [{"text": f"{text} ({i})", "spans": [] if i == 1 else [{"start": 0, "end": 11, "label": "PERSON"}]} for i in range(4)]
    source = write_jsonl(tmp_path / "tasks.jsonl", rows)
    server = start_server("page.tasks", "checked", str(source), "--label", "PERSON,ORG", "--require-spans", "-F", RECIPE)
    page = open_page(browser, server, ".tok")
    hashes = []
    for _ in range(3):
        hashes.append(current_hash(page))
        page.keyboard.press("a")  # the second has no span: the recipe refuses its accept
    page.keyboard.press("Control+s")
    page.wait_for_selector("#message.error")
    assert "mark at least one span before accepting" in page.inner_text("#message")
    assert current_hash(page) == hashes[1]  # back on screen, to be changed
    page.wait_for_function("window.binanno.outbox.length === 0")
    assert {r["_task_hash"] for r in stored(server.db, "checked")} == {hashes[0], hashes[2]}
    page.click('.card-text .tok[data-i="3"]')  # "Acme" as PERSON
    page.keyboard.press("a")
    page.keyboard.press("a")  # the fourth, which waited behind the refused one
    save(page)
    rows = stored(server.db, "checked")
    assert len(rows) == 4
    (fixed,) = [r for r in rows if r["_task_hash"] == hashes[1]]
    assert fixed["answer"] == "accept" and [(s["start"], s["end"]) for s in fixed["spans"]] == [(19, 23)]
    assert "refused" not in page.inner_text("#message")
    page.close()


def test_enter_after_a_click_on_a_button_stores_nothing(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = start_server("mark", "enter", str(tasks_file(tmp_path, 5)))
    page = open_page(browser, server, "mark.span")
    page.click("#accept")
    second = current_hash(page)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.evaluate("window.binanno.outbox.length") == 1 and current_hash(page) == second
    page.click("#save")
    page.wait_for_function("window.binanno.outbox.length === 0")
    page.keyboard.press("Enter")
    assert len(stored(server.db, "enter")) == 1 and current_hash(page) == second
    page.close()


def test_saving_and_error_messages_clear_once_the_save_succeeds(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = start_server("mark", "msgs", str(tasks_file(tmp_path, 5)))
    page = open_page(browser, server, "mark.span")
    page.keyboard.press("a")
    save(page)
    page.wait_for_function("!document.getElementById('message').textContent.includes('Saving')")
    assert page.inner_text("#message") == "All answers are saved."
    # The server can't be reached for a while: the red message, then, once a retry got through, gone.
    failures = {"left": 2}

    def flaky(route: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.abort()
        else:
            route.continue_()

    page.route("**/give_answers", flaky)
    page.keyboard.press("x")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#message.error")
    assert "Can't save answers" in page.inner_text("#message")
    page.wait_for_function("window.binanno.outbox.length === 0")
    page.wait_for_selector("#message:not(.error)")
    assert "Can't save" not in page.inner_text("#message")
    assert sorted(r["answer"] for r in stored(server.db, "msgs")) == ["accept", "reject"]
    page.close()


def test_counts_include_unsent_answers_everywhere_and_total_shows(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    rows = [{"text": f"Text {i}", "label": "spam", "meta": {"score": 1 if i == 0 else 0.987, "rank": 3}} for i in range(4)]
    source = write_jsonl(tmp_path / "tasks.jsonl", rows)
    server = start_server("page.tasks", "counts", str(source), "--view-id", "classification", "--total", "-F", RECIPE)
    page = open_page(browser, server, ".card-label")
    # Labels as written (no upper-casing) and scores alike whatever JSON made of them.
    assert page.inner_text(".card-label") == "spam"
    assert page.eval_on_selector(".card-label", "el => getComputedStyle(el).textTransform") == "none"
    assert page.inner_text("#card-meta").split() == ["score:", "1.00", "rank:", "3"]
    assert "answered 0 / 4" in page.inner_text("#counts")
    page.keyboard.press("a")
    assert "0.99" in page.inner_text("#card-meta")
    counts = page.inner_text("#counts")
    assert "answered 1 / 4" in counts and "this session 1" in counts and "accept 1" in counts and "1 unsaved" in counts
    assert page.evaluate("document.getElementById('progress-fill').style.width") == "25%"
    save(page)
    counts = page.inner_text("#counts")
    assert "answered 1 / 4" in counts and "this session 1" in counts and "accept 1" in counts and "unsaved" not in counts
    page.close()


def test_the_progress_bar_shows_from_the_start_and_never_moves_back(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    source = write_jsonl(tmp_path / "tasks.jsonl", [{"text": f"Text {i}"} for i in range(12)])
    server = start_server("page.tasks", "bar", str(source), "--view-id", "text", "--progress", "none,0.8,0.4,0.9",
                          "--batch-size", "1", "-F", RECIPE)
    page = open_page(browser, server)
    assert page.is_visible("#progress-track")
    assert "estimating" in page.inner_text("#counts")
    widths = []
    for _ in range(4):
        page.keyboard.press("a")
        save(page)
        widths.append(int(page.evaluate("document.getElementById('progress-fill').style.width").rstrip("%")))
    assert widths == sorted(widths) and widths[-1] == 90 and 80 in widths  # 0.4 came, and was not shown
    page.close()


def test_view_id_of_a_task_title_instructions_and_unknown_views(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    rows = [{"text": "Alice joined Acme.", "_view_id": "ner_manual"}, {"text": "Second", "_view_id": "nonesuch"}]
    source = write_jsonl(tmp_path / "tasks.jsonl", rows)
    config = '{"title": "Find the people", "instructions": "Mark every person.\\nNames only."}'
    server = start_server("page.tasks", "mixed", str(source), "--view-id", "text", "--label", "PERSON", "--config", config, "-F", RECIPE)
    page = open_page(browser, server, ".tok")  # the task's own _view_id wins over the recipe's
    assert page.inner_text("#title") == "Find the people"
    assert page.is_hidden("#help")
    page.keyboard.press("?")
    assert page.is_visible("#help") and page.inner_text("#instructions") == "Mark every person.\nNames only."
    page.click("#help-toggle")
    assert page.is_hidden("#help")
    page.keyboard.press("a")
    assert "nonesuch" in page.inner_text(".view-unknown") and "ner_manual" in page.inner_text(".view-unknown")
    page.close()


def test_a_long_text_scrolls_to_its_span_and_copying_leaves_the_label_out(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    text = " ".join(f"Filler sentence {i} says nothing at all." for i in range(150)) + " Then Acme Corp said so."
    start = text.index("Acme Corp")
    source = write_jsonl(tmp_path / "long.jsonl", [{"text": text, "spans": [{"start": start, "end": start + 9, "label": "ORG"}]}])
    server = start_server("mark", "long", str(source))
    page = open_page(browser, server, "mark.span")
    page.wait_for_function("document.querySelector('.card-text').scrollTop > 0")
    inside = page.eval_on_selector("mark.span", """mark => {
        const box = mark.closest('.card-text').getBoundingClientRect(), m = mark.getBoundingClientRect();
        return m.top >= box.top && m.bottom <= box.bottom && m.bottom <= window.innerHeight;
    }""")
    assert inside
    copied = page.eval_on_selector("mark.span", """mark => {
        const range = document.createRange(); range.selectNodeContents(mark.parentElement);
        const selection = getSelection(); selection.removeAllRanges(); selection.addRange(range);
        return selection.toString();
    }""")
    assert copied.endswith("Then Acme Corp said so.") and "ORG" not in copied
    page.close()


def test_a_refusal_of_the_only_answer_sent_stays_on_screen(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    source = write_jsonl(tmp_path / "one.jsonl", [{"text": "Nothing to mark here."}, {"text": "Nor here."}])
    server = start_server("page.tasks", "alone", str(source), "--label", "PERSON", "--require-spans", "-F", RECIPE)
    page = open_page(browser, server, ".tok")
    first = current_hash(page)
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#message.error")
    page.wait_for_function("window.binanno.outbox.length === 0")
    assert current_hash(page) == first and "mark at least one span" in page.inner_text("#message")
    page.keyboard.press("x")  # a reject needs no span
    save(page)
    assert [(r["_task_hash"], r["answer"]) for r in stored(server.db, "alone")] == [(first, "reject")]
    page.close()
