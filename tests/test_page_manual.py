"""ner_manual and spans_manual in a real headless Chromium: spans by mouse and keyboard, stored
with exact character and token offsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_jsonl
from test_browser import stored

pytestmark = pytest.mark.browser
RECIPE = str(Path(__file__).parent / "page_recipe.py")
TEXT = "Alice Smith joined Acme Corp in Berlin."  # tokens: Alice Smith joined Acme Corp in Berlin .


def serve(start_server: Any, tmp_path: Path, tasks: list[dict[str, Any]], view_id: str = "ner_manual", *extra: str) -> Any:
    source = write_jsonl(tmp_path / "tasks.jsonl", tasks)
    return start_server("page.tasks", "manual", str(source), "--view-id", view_id, "--label", "PERSON,ORG,GPE", "-F", RECIPE, *extra)


def open_page(browser: Any, server: Any) -> Any:  # noqa: F811
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".tok")
    return page


def tok(i: int) -> str:
    return f'.card-text .tok[data-i="{i}"]'


def save_and_read(page: Any, server: Any) -> list[dict[str, Any]]:
    page.keyboard.press("Control+s")
    page.wait_for_function("window.binanno.outbox.length === 0")
    return stored(server.db, "manual")


def spans_of(row: dict[str, Any]) -> list[tuple[int, int, int, int, str]]:
    return [(s["start"], s["end"], s["token_start"], s["token_end"], s["label"]) for s in row["spans"]]


def test_drag_two_tokens_press_2_and_accept_stores_those_offsets(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = serve(start_server, tmp_path, [{"text": TEXT}])
    page = open_page(browser, server)
    assert page.get_attribute(".label-btn[aria-pressed=true]", "class") and page.inner_text(".label-btn[aria-pressed=true]").endswith("PERSON")
    page.drag_and_drop(tok(3), tok(4))  # "Acme Corp"
    page.keyboard.press("2")  # ORG: right after adding a span, a number key relabels it
    assert page.inner_text(".label-btn[aria-pressed=true]").endswith("ORG")
    page.wait_for_timeout(300)
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert row["answer"] == "accept" and spans_of(row) == [(19, 28, 3, 4, "ORG")]
    assert TEXT[19:28] == "Acme Corp"
    assert row["_view_seconds"] >= 0.3  # the time on screen is recorded for this interface too
    page.close()


def test_click_shift_click_and_the_keyboard_select_spans(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = serve(start_server, tmp_path, [{"text": TEXT}])
    page = open_page(browser, server)
    page.click(tok(0))
    page.click(tok(1), modifiers=["Shift"])  # the one-token span the click added grows to "Alice Smith"
    assert page.locator("mark.span").count() == 1 and page.inner_text("mark.span").startswith("Alice Smith")
    page.keyboard.press("3")  # relabels the new span: GPE
    page.keyboard.press("1")  # and back to PERSON
    page.keyboard.press("Escape")
    # Keys: 3 picks GPE, the arrows move on from the last click (token 1) to "Berlin" (6), Enter adds it.
    page.keyboard.press("3")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert page.get_attribute(".tok.cursor", "data-i") == "6"
    page.keyboard.press("Enter")
    # Shift+arrows extend: "joined Acme" from token 2 to 3, as ORG.
    page.keyboard.press("2")
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator(".tok.selected").count() == 2
    page.keyboard.press("Enter")
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert spans_of(row) == [(0, 11, 0, 1, "PERSON"), (12, 23, 2, 3, "ORG"), (32, 38, 6, 6, "GPE")]
    page.close()


def test_a_pre_filled_span_is_shown_and_a_click_removes_it(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    spans = [{"start": 0, "end": 11, "label": "PERSON"}, {"start": 19, "end": 28, "token_start": 3, "token_end": 4, "label": "ORG"}]
    server = serve(start_server, tmp_path, [{"text": TEXT, "spans": spans}])
    page = open_page(browser, server)
    assert page.locator("mark.span").count() == 2
    assert page.get_attribute("mark.span >> nth=1", "data-label") == "ORG"
    page.click(tok(4))  # inside "Acme Corp": removes that span
    assert page.locator("mark.span").count() == 1
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert spans_of(row) == [(0, 11, 0, 1, "PERSON")]  # the pre-filled span got its token offsets
    page.close()


def test_overlaps_are_refused_in_ner_manual(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = serve(start_server, tmp_path, [{"text": TEXT, "spans": [{"start": 19, "end": 28, "label": "ORG"}]}])
    page = open_page(browser, server)
    page.drag_and_drop(tok(4), tok(5))  # "Corp in" overlaps "Acme Corp"
    assert "overlaps" in page.inner_text(".view-message")
    assert page.locator("mark.span").count() == 1
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert spans_of(row) == [(19, 28, 3, 4, "ORG")]
    page.close()


def test_overlaps_are_kept_and_drawn_stacked_in_spans_manual(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    server = serve(start_server, tmp_path, [{"text": TEXT, "spans": [{"start": 19, "end": 28, "label": "ORG"}]}], "spans_manual")
    page = open_page(browser, server)
    page.keyboard.press("3")
    page.drag_and_drop(tok(4), tok(6))  # "Corp in Berlin" crosses "Acme Corp"
    assert page.inner_text(".view-message") == ""
    assert page.locator(".span-tag").count() == 2
    # Both spans stay visible on the shared token: two bars at different heights.
    bottoms = page.eval_on_selector_all(f"{tok(4)} .span-bar", "bars => bars.map(b => b.getBoundingClientRect().bottom)")
    assert len(bottoms) == 2 and bottoms[0] != bottoms[1]
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert spans_of(row) == [(19, 28, 3, 4, "ORG"), (24, 38, 4, 6, "GPE")]
    page.close()


def test_a_click_on_a_stacked_span_label_removes_it(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    spans = [{"start": 19, "end": 28, "label": "ORG"}, {"start": 24, "end": 38, "label": "GPE"}]
    server = serve(start_server, tmp_path, [{"text": TEXT, "spans": spans}], "spans_manual")
    page = open_page(browser, server)
    page.click('.span-tag[data-label="ORG"]')
    assert page.locator(".span-tag").count() == 1
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert spans_of(row) == [(24, 38, 4, 6, "GPE")]
    page.close()


def test_right_to_left_text_keeps_labels_beside_their_spans(browser: Any, start_server: Any, tmp_path: Path) -> None:  # noqa: F811
    text = "زار محمد مدينة القاهرة أمس"
    start = text.index("القاهرة")
    server = serve(start_server, tmp_path, [{"text": text, "spans": [{"start": start, "end": start + 7, "label": "GPE"}]}])
    page = open_page(browser, server)
    assert page.eval_on_selector(".card-text", "el => getComputedStyle(el).direction") == "rtl"
    # The label is drawn at the span's inline end: in right-to-left text, on its left, touching it.
    boxes = page.eval_on_selector("mark.span", """mark => {
        const range = document.createRange(); range.selectNodeContents(mark.querySelector('.tok'));
        const word = range.getBoundingClientRect(), box = mark.getBoundingClientRect();
        return {word: [word.left, word.right], box: [box.left, box.right]};
    }""")
    (word_left, word_right), (box_left, box_right) = boxes["word"], boxes["box"]
    assert box_left < word_left - 10  # room for the label on the left
    assert abs(box_right - word_right) < 8  # nothing on the right but the padding
    page.keyboard.press("a")
    (row,) = save_and_read(page, server)
    assert [(s["start"], s["end"]) for s in row["spans"]] == [(start, start + 7)]
    page.close()
