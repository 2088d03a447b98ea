"""Screenshots of each interface, for README.md: the real server, a headless Chromium, example tasks.

    python bench/screenshots.py              # every entry of SHOTS
    python bench/screenshots.py ner_manual   # only some

Each entry of SHOTS is (view_id, tasks, config): this file is also the recipe (`-F`) that serves
the tasks with that view_id, so a new interface needs only a new row. The pictures go to
bench/screenshots/<view_id>.png.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
OUT = HERE / "screenshots"
TEXT = "Alice Smith joined Acme Corp in Berlin last May."
ARABIC = "زار محمد مدينة القاهرة أمس"


def tokens_of(text: str) -> list[dict[str, Any]]:
    """Prodigy's token format: words and single punctuation marks, with their trailing whitespace."""
    found = list(re.finditer(r"\w+|[^\w\s]", text))
    return [{"text": m.group(), "start": m.start(), "end": m.end(), "id": i, "ws": text[m.end():m.end() + 1].isspace()}
            for i, m in enumerate(found)]


def span(text: str, words: str, label: str) -> dict[str, Any]:
    start = text.index(words)
    return {"start": start, "end": start + len(words), "label": label}


def svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf8")).decode("ascii")


def wav_uri(seconds: float = 2.0, rate: int = 8000) -> str:
    """A data URI of a quiet 440 Hz tone (the player shows its length)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(b"".join(struct.pack("<h", int(2000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))))
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


HOUSE = svg_uri('<svg xmlns="http://www.w3.org/2000/svg" width="480" height="270"><rect width="480" height="270" fill="#cfe8ff"/>'
                '<rect y="200" width="480" height="70" fill="#7cc47f"/><circle cx="400" cy="60" r="30" fill="#ffd23f"/>'
                '<rect x="150" y="120" width="140" height="100" fill="#e07a5f"/><polygon points="140,125 220,60 300,125" fill="#3d405b"/>'
                '<rect x="205" y="165" width="30" height="55" fill="#5c3d2e"/></svg>')
LABELS = ["PERSON", "ORG", "GPE", "DATE"]
REVIEW_TEXT = "Great food, but we waited an hour for it."
OPTIONS = [{"id": "positive", "text": "Positive"}, {"id": "negative", "text": "Negative"}, {"id": "mixed", "text": "Mixed"}]
SHOTS: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    ("ner", [{"text": TEXT, "spans": [span(TEXT, "Acme Corp", "ORG")], "meta": {"score": 0.87, "source": "news"}}], {}),
    ("binary", [{"text": ARABIC, "spans": [span(ARABIC, "القاهرة", "GPE")], "meta": {"score": 0.61}}], {}),
    ("classification", [{"text": "WINNER!! Claim your free prize now: text WIN to 80086.", "label": "spam", "meta": {"score": 0.5}}], {}),
    ("text", [{"text": TEXT}], {}),
    ("ner_manual", [{"text": TEXT, "spans": [span(TEXT, "Alice Smith", "PERSON"), span(TEXT, "Acme Corp", "ORG")]}],
     {"labels": LABELS, "instructions": "Mark every person, organisation, place and date."}),
    ("spans_manual", [{"text": TEXT, "spans": [span(TEXT, "Acme Corp", "ORG"), span(TEXT, "Corp in Berlin", "GPE"),
                                                span(TEXT, "Berlin last May", "DATE")]}], {"labels": LABELS}),
    ("choice", [{"text": REVIEW_TEXT, "options": OPTIONS, "accept": ["mixed"]}], {}),
    ("html", [{"text": "", "html": '<h3>Order #1042</h3><p>Shipped <b>today</b> to <a href="https://example.org/">Berlin</a>.</p>'
                                   '<script>alert("never runs")</script><img src="x" onerror="alert(1)">'}], {}),
    ("text_input", [{"text": TEXT}], {"field_label": "Translation", "field_placeholder": "Auf Deutsch…"}),
    ("blocks", [{"text": TEXT, "spans": [span(TEXT, "Acme Corp", "ORG")], "options": OPTIONS[:2]}],
     {"labels": LABELS, "blocks": [{"view_id": "ner_manual"}, {"view_id": "choice", "text": None},
                                   {"view_id": "text_input", "field_id": "comment", "field_placeholder": "Anything odd?"}]}),
    ("image", [{"image": HOUSE, "label": "HOUSE", "meta": {"file": "street_12.svg"}}], {}),
    ("audio", [{"audio": wav_uri(), "text": "Does the caller ask for a refund?", "meta": {"file": "call_0042.wav"}}], {}),
    # As the review recipe makes them: the most common version is the default and pre-fills the reviewer's own.
    ("review", [{"text": TEXT, "view_id": "ner_manual", "spans": [span(TEXT, "Alice Smith", "PERSON"), span(TEXT, "Berlin", "GPE")],
                 "versions": [
        {"text": TEXT, "spans": [span(TEXT, "Alice Smith", "PERSON"), span(TEXT, "Acme Corp", "ORG")], "answer": "accept",
         "sessions": ["news-alice"], "default": False},
        {"text": TEXT, "spans": [span(TEXT, "Alice Smith", "PERSON"), span(TEXT, "Berlin", "GPE")], "answer": "accept",
         "sessions": ["news-bob", "news-carol"], "default": True}]}], {"labels": LABELS}),
]


try:  # as the recipe file of the server this script starts
    from binanno import Arg, recipe

    @recipe("screenshot.tasks", source=Arg(help="JSONL of tasks"), view_id=Arg(help="Interface", kind="option"),
            config=Arg(help="Config as JSON", kind="option"))
    def screenshot_tasks(source: str, view_id: str = "text", config: str = "{}") -> dict[str, Any]:
        """Serve SOURCE's tasks with VIEW_ID, for a screenshot."""
        rows = [json.loads(line) for line in Path(source).read_text(encoding="utf8").splitlines() if line.strip()]

        def stream() -> Iterator[dict[str, Any]]:
            for task in rows:
                yield {**task, "tokens": task.get("tokens") or tokens_of(task.get("text", ""))}

        return {"dataset": f"screenshot-{view_id}", "stream": stream(), "view_id": view_id, "config": json.loads(config)}
except ImportError:
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shoot(browser: Any, view_id: str, tasks: list[dict[str, Any]], config: dict[str, Any], work: Path) -> Path:
    """Serve ``tasks`` with ``view_id`` and photograph the page."""
    import httpx

    source = work / f"{view_id}.jsonl"
    source.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks), encoding="utf8")
    port = free_port()
    cmd = [sys.executable, "-m", "binanno", "screenshot.tasks", str(source), "--view-id", view_id, "--config", json.dumps(config),
           "-F", str(Path(__file__).resolve()), "--port", str(port), "--host", "127.0.0.1", "--db", str(work / "shots.db")]
    env = {**os.environ, "BINANNO_HOME": str(work)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"the server for {view_id} exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                httpx.get(url + "/project", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        page = browser.new_page(viewport={"width": 900, "height": 560})
        page.goto(url + "/")
        page.wait_for_selector(".view")
        page.wait_for_timeout(300)  # let the progress bar's transition end
        OUT.mkdir(exist_ok=True)
        path = OUT / f"{view_id}.png"
        page.screenshot(path=str(path))
        page.close()
        return path
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)


def main(names: list[str]) -> None:
    """Take the screenshots named (every one by default)."""
    from playwright.sync_api import sync_playwright

    wanted = [shot for shot in SHOTS if not names or shot[0] in names]
    if names and len(wanted) != len(set(names)):
        known = ", ".join(shot[0] for shot in SHOTS)
        raise SystemExit(f"unknown interface in {' '.join(names)}: known ones are {known}")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for view_id, tasks, config in wanted:
            print(shoot(browser, view_id, tasks, config, Path(tmp)).relative_to(HERE.parent))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
