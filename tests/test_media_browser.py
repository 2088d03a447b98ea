"""The image and audio cards in a real headless Chromium, with tasks from ImageServer, AudioServer and Images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, write_jsonl
from media_files import write_png, write_wav

from binanno.components.db import Database
from binanno.components.loaders import Images

pytestmark = pytest.mark.browser
RECIPES = str(ROOT / "tests" / "prodigy_recipes.py")
PAGE = str(ROOT / "tests" / "page_recipe.py")


def stored(db_path: Path, dataset: str) -> list[dict[str, Any]]:
    db = Database(db_path)
    try:
        return list(db.get_answers(dataset)) if dataset in db else []
    finally:
        db.close()


def csp_page(browser: Any) -> tuple[Any, list[str]]:
    """A page that keeps the server's CSP and records every violation of it."""
    page = browser.new_page(bypass_csp=False)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => console.error('CSP violation ' + e.violatedDirective))")
    return page, messages


def wait_until(page: Any, predicate: str) -> None:
    """Wait for ``predicate`` (a JS function of no arguments) to hold: ``wait_for_function`` evaluates
    a string with eval, which the page's CSP, kept on here, forbids."""
    for _ in range(600):
        if page.evaluate(predicate):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {predicate}")


def test_image_server_tasks_show_their_image_and_store_an_accept(browser: Any, start_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    write_png(folder / "red cat.png", width=40, height=30)
    write_png(folder / "blue.png", width=20, height=10, rgb=(0, 0, 255))
    server = start_server("image.ask", "pics", str(folder), "-F", RECIPES)
    page, messages = csp_page(browser)
    page.goto(server.url + "/")
    page.wait_for_selector(".media-box img")
    wait_until(page, "() => document.querySelector('.media-box img').complete")
    assert page.eval_on_selector(".media-box img", "img => [img.naturalWidth, img.naturalHeight]") == [20, 10]
    assert "blue.png" in page.inner_text("#card-meta")
    page.keyboard.press("a")
    wait_until(page, "() => document.querySelector('.media-box img').complete")
    assert page.eval_on_selector(".media-box img", "img => img.naturalWidth") == 40
    page.keyboard.press("Control+s")
    page.wait_for_selector(".history-item.sent")
    (row,) = stored(server.db, "pics")
    assert row["answer"] == "accept" and row["meta"] == {"file": "blue.png"} and row["image"].startswith("/media/")
    assert not [m for m in messages if "CSP violation" in m or "Content Security Policy" in m], messages
    page.close()


def test_data_uri_images_show_with_their_label_and_text(browser: Any, start_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    write_png(folder / "a.png", width=12, height=7)
    (task,) = Images(folder)
    source = write_jsonl(tmp_path / "tasks.jsonl", [{**task, "label": "CAT", "text": "Is this a cat?"},
                                                    {"image": "javascript:alert(1)", "text": "refused source"}])
    server = start_server("page.tasks", "uris", str(source), "--view-id", "image", "-F", PAGE)
    page, messages = csp_page(browser)
    page.goto(server.url + "/")
    page.wait_for_selector(".media-box img")
    wait_until(page, "() => document.querySelector('.media-box img').complete")
    assert page.eval_on_selector(".media-box img", "img => img.naturalWidth") == 12
    assert page.inner_text(".card-label") == "CAT" and page.inner_text(".media-text") == "Is this a cat?"
    page.keyboard.press("x")
    page.wait_for_selector(".media-missing")  # a javascript: URL is never loaded
    assert page.locator(".media-box img").count() == 0
    assert not [m for m in messages if "CSP violation" in m], messages
    page.close()


def test_audio_server_tasks_get_a_player_and_store_an_accept(browser: Any, start_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    write_wav(folder / "hello.wav", seconds=0.5)
    server = start_server("audio.ask", "clips", str(folder), "-F", RECIPES)
    page, messages = csp_page(browser)
    page.goto(server.url + "/")
    page.wait_for_selector(".media-box audio[controls]")
    wait_until(page, "() => document.querySelector('.media-box audio').readyState >= 1")  # its metadata loaded
    duration = page.eval_on_selector(".media-box audio", "a => a.duration")
    assert 0.4 < duration < 0.6
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".history-item.sent")
    (row,) = stored(server.db, "clips")
    assert row["answer"] == "accept" and row["meta"] == {"file": "hello.wav"}
    assert not [m for m in messages if "CSP violation" in m or "Content Security Policy" in m], messages
    page.close()
