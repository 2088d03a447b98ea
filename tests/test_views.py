"""The choice, html, text_input, blocks and review interfaces in a real headless Chromium, against the real
server in a subprocess serving a custom recipe (written here, through the public recipe API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import spacy
from conftest import write_jsonl

from binanno.components.db import Database

pytestmark = pytest.mark.browser

# A user's recipe: serves the tasks of a JSONL file as they are, with the view_id and config given.
RECIPE = '''
import json

import binanno
from binanno import Arg, set_hashes


@binanno.recipe(
    "views.show",
    dataset=Arg(help="Dataset to save answers to"),
    source=Arg(help="JSONL file of tasks"),
    view_id=Arg(help="Interface to show the tasks with", kind="option"),
    config=Arg(help="The recipe's config, as JSON", kind="option"),
)
def views_show(dataset: str, source: str, view_id: str = "text", config: str = "{}"):
    """Show each task of SOURCE with the interface VIEW_ID."""

    def tasks():
        with open(source, encoding="utf8") as f:
            for line in f:
                yield set_hashes(json.loads(line))

    return {"dataset": dataset, "stream": tasks(), "view_id": view_id, "config": json.loads(config)}
'''

OPTIONS = [{"id": "pos", "text": "Positive"}, {"id": "neg", "text": "Negative"}, {"id": "mix", "text": "Mixed"}]


@pytest.fixture
def show(start_server: Any, tmp_path: Path) -> Any:
    """Start the server on `tasks` with `view_id` and `config`; returns it."""
    recipe = tmp_path / "views_recipe.py"
    recipe.write_text(RECIPE, encoding="utf8")

    def start(dataset: str, tasks: list[dict[str, Any]], view_id: str, config: dict[str, Any] | None = None) -> Any:
        source = write_jsonl(tmp_path / f"{dataset}.jsonl", tasks)
        return start_server("views.show", dataset, str(source), "--view-id", view_id,
                            "--config", json.dumps(config or {}), "-F", str(recipe))

    return start


def stored(db_path: Path, dataset: str) -> list[dict[str, Any]]:
    db = Database(db_path)
    try:
        return list(db.get_answers(dataset)) if dataset in db else []
    finally:
        db.close()


def save(page: Any, server: Any, dataset: str, count: int) -> list[dict[str, Any]]:
    """Save (ctrl+s) and wait until `count` answers are in the database; returns them in answer order."""
    page.keyboard.press("Control+s")
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        rows = stored(server.db, dataset)
        if len(rows) >= count:
            break
        page.wait_for_timeout(100)
    assert len(rows) == count
    return rows


def tokens_of(text: str) -> list[dict[str, Any]]:
    """Prodigy's token format, from spaCy's blank English tokenizer."""
    return [{"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i, "ws": bool(t.whitespace_)}
            for t in spacy.blank("en")(text)]


def by_text(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["text"]: row for row in rows}


def test_choice_single_by_keys_and_clicks(browser: Any, show: Any) -> None:
    tasks = [{"text": "Great food, slow service.", "options": OPTIONS},
             {"text": "Terrible.", "options": OPTIONS},
             {"text": "Lovely.", "options": OPTIONS, "accept": ["pos"]}]
    server = show("moods", tasks, "choice")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".choice-option")
    assert page.inner_text(".choice-prompt") == "Great food, slow service."
    assert page.locator(".choice-option kbd").all_inner_texts() == ["1", "2", "3"]
    page.keyboard.press("1")
    page.keyboard.press("3")  # single choice: 3 replaces 1
    assert page.locator(".choice-option.chosen").all_inner_texts()[0].startswith("✓")
    assert [b.get_attribute("data-id") for b in page.locator(".choice-option.chosen").all()] == ["mix"]
    page.keyboard.press("a")
    page.wait_for_selector("text=Terrible.")
    page.keyboard.press("Backspace")  # undo: the answered choice is back, still chosen
    page.wait_for_selector("text=Great food, slow service.")
    assert [b.get_attribute("data-id") for b in page.locator(".choice-option.chosen").all()] == ["mix"]
    page.keyboard.press("a")

    page.wait_for_selector("text=Terrible.")
    page.click(".choice-option >> text=Positive")
    page.click(".choice-option >> text=Negative")
    page.keyboard.press("Enter")  # a clicked option keeps no focus: Enter presses nothing
    assert [b.get_attribute("data-id") for b in page.locator(".choice-option.chosen").all()] == ["neg"]
    page.keyboard.press("a")

    page.wait_for_selector("text=Lovely.")  # a pre-filled answer is shown chosen
    assert [b.get_attribute("data-id") for b in page.locator(".choice-option.chosen").all()] == ["pos"]
    page.keyboard.press("a")
    rows = by_text(save(page, server, "moods", 3))
    assert rows["Great food, slow service."]["accept"] == ["mix"]
    assert rows["Terrible."]["accept"] == ["neg"]
    assert rows["Lovely."]["accept"] == ["pos"]
    assert all(row["answer"] == "accept" for row in rows.values())
    page.close()


def test_choice_multiple_keeps_several_in_option_order(browser: Any, show: Any) -> None:
    arabic = [*OPTIONS, {"id": "ar", "text": "مختلط"}]
    tasks = [{"text": "Sweet and sour.", "options": OPTIONS}, {"text": "Nothing chosen.", "options": arabic}]
    server = show("multi", tasks, "choice", {"choice_style": "multiple"})
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".choice-option")
    page.keyboard.press("3")
    page.click(".choice-option >> text=Positive")
    page.keyboard.press("2")
    page.keyboard.press("2")  # a second press takes it back
    assert [b.get_attribute("data-id") for b in page.locator(".choice-option.chosen").all()] == ["pos", "mix"]
    page.keyboard.press("a")
    page.wait_for_selector("text=Nothing chosen.")
    direction = "el => getComputedStyle(el).direction"
    assert page.locator(".choice-option >> text=مختلط").evaluate(direction) == "rtl"  # dir="auto"
    assert page.locator(".choice-option >> text=Mixed").evaluate(direction) == "ltr"
    page.keyboard.press("a")  # nothing chosen: an empty list
    rows = by_text(save(page, server, "multi", 2))
    assert rows["Nothing chosen."]["accept"] == []
    row = rows["Sweet and sour."]
    assert row["accept"] == ["pos", "mix"] and row["answer"] == "accept"
    page.close()


def test_choice_auto_accept_answers_on_a_single_choice(browser: Any, show: Any) -> None:
    tasks = [{"text": f"Review {i}.", "options": OPTIONS} for i in range(3)]
    server = show("quick", tasks, "choice", {"choice_auto_accept": True})
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("text=Review 0.")
    page.keyboard.press("2")
    page.wait_for_selector("text=Review 1.")
    page.click(".choice-option >> text=Mixed")
    page.wait_for_selector("text=Review 2.")
    rows = by_text(save(page, server, "quick", 2))
    assert rows["Review 0."]["accept"] == ["neg"] and rows["Review 1."]["accept"] == ["mix"]
    page.close()


EVIL = ('<p>Safe <b>bold</b> and <a id="safe" href="https://example.org/">a link</a></p>'
        '<script>window.pwned = "script"</script>'
        '<img id="broken" src="/missing.png" onerror="window.pwned = \'onerror\'">'
        '<a id="evil" href="javascript:window.pwned = \'link\'">click me</a>'
        '<svg><script>window.pwned = "svg"</script></svg>'
        '<iframe srcdoc="<script>parent.pwned = 1</script>"></iframe>'
        '<form action="javascript:window.pwned = \'form\'"><button id="submit">go</button></form>'
        '<div onmouseover="window.pwned = \'hover\'">hover</div><script>alert(1)</script>')


def test_html_is_sanitized_and_runs_nothing(browser: Any, show: Any) -> None:
    tasks = [{"text": "", "html": EVIL}, {"text": "Only text <b>here</b>"}]
    server = show("pages", tasks, "html")
    # The vendored sanitizer is served as JavaScript (browsers refuse a module of another MIME type).
    vendored = httpx.get(server.url + "/static/vendor/purify.es.js")
    assert vendored.status_code == 200 and vendored.headers["content-type"].startswith("text/javascript")
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.url + "/")
    page.wait_for_selector(".html-content b")
    assert page.inner_text(".html-content b") == "bold"
    page.wait_for_function("document.querySelector('#broken') === null || document.querySelector('#broken').complete")
    card = page.locator(".html-content")
    assert card.locator("script, iframe, form, [onerror], [onmouseover]").count() == 0
    assert (page.get_attribute("#evil", "href") or "").startswith("javascript:") is False
    page.click("#evil")
    page.hover("text=hover")
    assert page.get_attribute("#safe", "target") == "_blank"
    assert page.get_attribute("#safe", "rel") == "noopener noreferrer"
    assert page.get_attribute(".html-content", "dir") == "auto"
    assert page.evaluate("window.pwned") is None and dialogs == []
    assert len(page.context.pages) == 1  # the javascript: link opened nothing

    page.keyboard.press("a")  # a task without html shows its text, as text
    page.wait_for_selector(".card-text")
    assert page.inner_text(".card-text") == "Only text <b>here</b>"
    assert page.evaluate("window.pwned") is None and dialogs == []
    page.close()


def test_blocks_store_every_block_in_one_answer(browser: Any, show: Any) -> None:
    text = "Alice Smith joined Acme Corp today."
    config = {"labels": ["PERSON", "ORG"],
              "blocks": [{"view_id": "ner_manual"},
                         {"view_id": "text_input", "field_id": "comment", "field_label": "Why?", "field_placeholder": "a reason"},
                         {"view_id": "choice", "text": None}, {"view_id": "nonsense"}]}
    server = show("blocks", [{"text": text, "tokens": tokens_of(text), "options": OPTIONS}], "blocks", config)
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".block-choice .choice-option")
    assert page.locator(".block").count() == 4
    assert 'Unknown block view_id "nonsense"; use one of: ' in page.inner_text(".block-nonsense")
    assert page.locator(".block-choice .choice-prompt").count() == 0  # "text": null: shown once, by ner_manual
    assert page.inner_text("label[for]") == "Why?"
    assert page.get_attribute(".block-text_input input", "placeholder") == "a reason"
    page.keyboard.press("2")  # the first block that takes number keys: ner_manual's label ORG, not an option
    assert page.locator(".choice-option.chosen").count() == 0
    assert page.locator(".block-choice kbd").count() == 0  # no key hints for keys it never gets
    page.hover('.tok[data-i="3"]')  # drag across "Acme Corp"
    page.mouse.down()
    page.hover('.tok[data-i="4"]')
    page.mouse.up()
    page.wait_for_selector("mark.span")
    page.click(".choice-option >> text=Negative")
    page.click(".block-text_input input")
    page.keyboard.type("a x 1 ")  # typed into the field: no answer, no label, no option
    page.keyboard.press("Escape")
    assert [b.get_attribute("data-id") for b in page.locator(".choice-option.chosen").all()] == ["neg"]
    page.keyboard.press("a")
    (row,) = save(page, server, "blocks", 1)
    assert row["answer"] == "accept" and row["accept"] == ["neg"] and row["comment"] == "a x 1 "
    assert [(s["start"], s["end"], s["token_start"], s["token_end"], s["label"]) for s in row["spans"]] == [(19, 28, 3, 4, "ORG")]
    page.close()


def test_text_input_rows_and_undo_keep_the_typed_value(browser: Any, show: Any) -> None:
    tasks = [{"text": f"Translate {i}."} for i in range(2)]
    config = {"blocks": [{"view_id": "text"}, {"view_id": "text_input", "field_rows": 3, "field_autofocus": True}]}
    server = show("typed", tasks, "blocks", config)
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("textarea:focus")  # field_autofocus
    assert page.get_attribute("textarea", "rows") == "3" and page.get_attribute("textarea", "dir") == "auto"
    page.keyboard.type("Bonjour")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_selector("text=Translate 1.")
    page.keyboard.press("Escape")  # autofocus again: leave the field to undo
    page.keyboard.press("Backspace")  # undo brings back the answered working copy, typed value included
    page.wait_for_selector("text=Translate 0.")
    assert page.input_value("textarea") == "Bonjour"
    page.fill("textarea", "Bonjour !")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_selector("text=Translate 1.")
    page.wait_for_selector("textarea:focus")
    page.keyboard.press("Escape")  # ctrl+s in the field would be the field's
    (row,) = save(page, server, "typed", 1)
    assert row["user_input"] == "Bonjour !"
    page.close()


def review_task(view_id: str, **fields: Any) -> dict[str, Any]:
    return {"view_id": view_id, **fields}


def test_review_shows_who_said_what_and_stores_the_decision(browser: Any, show: Any) -> None:
    text = "Alice Smith joined Acme Corp."
    person, org = {"start": 0, "end": 11, "label": "PERSON"}, {"start": 19, "end": 28, "label": "ORG"}
    tokens = tokens_of(text)
    choice = review_task("choice", text="Great food, slow service.", options=OPTIONS, accept=["pos"], versions=[
        {"text": "Great food, slow service.", "options": OPTIONS, "accept": ["pos"], "answer": "accept",
         "sessions": ["moods-alice"], "default": True},
        {"text": "Great food, slow service.", "options": OPTIONS, "accept": ["mix"], "answer": "accept",
         "sessions": ["moods-bob", "moods-carol"], "default": False}])
    binary = review_task("ner", text=text, spans=[org], versions=[
        {"text": text, "spans": [org], "answer": "accept", "sessions": ["moods-alice"], "default": True},
        {"text": text, "spans": [org], "answer": "reject", "sessions": ["moods-bob"], "default": False}])
    manual = review_task("ner_manual", text=text, tokens=tokens, spans=[person], versions=[
        {"text": text, "tokens": tokens, "spans": [person], "answer": "accept", "sessions": ["moods-alice"], "default": True},
        {"text": text, "tokens": tokens, "spans": [person, org], "answer": "accept", "sessions": ["moods-bob"], "default": False}])
    server = show("reviewed", [choice, binary, manual], "review", {"labels": ["PERSON", "ORG"]})
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".review-version")
    versions = page.locator(".review-version")
    assert versions.count() == 2
    assert page.locator(".review-sessions").all_inner_texts() == ["moods-alice", "moods-bob, moods-carol"]
    assert page.locator(".review-version .review-default").count() == 1
    chosen = [b.get_attribute("data-id") for b in page.locator(".review-version .choice-option.chosen").all()]
    assert chosen == ["pos", "mix"]
    assert page.locator(".review-version .choice-option:disabled").count() == 6  # read-only
    own = page.locator(".review-own .choice-option.chosen")
    assert [b.get_attribute("data-id") for b in own.all()] == ["pos"]  # pre-filled from the default version
    page.keyboard.press("3")  # the reviewer's own version takes the keys
    assert [b.get_attribute("data-id") for b in own.all()] == ["mix"]
    assert chosen == [b.get_attribute("data-id") for b in page.locator(".review-version .choice-option.chosen").all()]
    page.keyboard.press("a")

    page.wait_for_selector(".review-version.answer-reject")  # yes/no answers: who accepted, who rejected
    assert page.locator(".review-answer").all_text_contents() == ["Accepted", "Rejected"]  # (CSS upper-cases them)
    assert page.locator(".review-version mark, .review-version .span").count() >= 2
    page.keyboard.press("x")

    page.wait_for_selector(".review-own .review-own-head")
    page.wait_for_function("document.querySelectorAll('.review-version').length === 2 && !document.querySelector('.answer-reject')")
    assert page.locator(".review-sessions").all_inner_texts() == ["moods-alice", "moods-bob"]
    page.keyboard.press("a")
    rows = save(page, server, "reviewed", 3)
    decided = {row["view_id"]: row for row in rows}
    assert decided["choice"]["accept"] == ["mix"] and decided["choice"]["answer"] == "accept"
    assert len(decided["choice"]["versions"]) == 2
    assert decided["ner"]["answer"] == "reject"
    assert [(s["start"], s["end"]) for s in decided["ner_manual"]["spans"]] == [(0, 11)]
    page.close()
