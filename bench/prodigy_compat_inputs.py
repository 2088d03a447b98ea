"""Small real inputs for bench/prodigy_compat.py: the files a Prodigy recipe's arguments point at.

Texts come from binanno's bundled news sample and the SMS Spam Collection in shared/data; images
and audio are made here (two tiny PNGs, two short silent WAVs), so nothing is downloaded.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "binanno" / "data"
# shared/ sits beside the main checkout; a worktree is one level further down
SMS = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT / "shared") \
    / "data" / "sms_spam" / "SMSSpamCollection"


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf8")
    return str(path)


def _png(path: Path, rgb: tuple[int, int, int]) -> None:
    """A 4x4 PNG of one colour, written by hand: no imaging library needed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * 4 for _ in range(4))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _wav(path: Path) -> None:
    """A tenth of a second of silence, 16 kHz mono."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 1600)


def _sms(limit: int) -> list[tuple[str, str]]:
    """The first ``limit`` distinct messages as (label, text); the file has exact duplicates."""
    seen: dict[str, str] = {}
    if not SMS.is_file():  # a clone without shared/: the news sample stands in
        return [("ham", json.loads(line)["text"]) for line in (SAMPLES / "news.jsonl").read_text(encoding="utf8").splitlines()[:limit]]
    for line in SMS.read_text(encoding="utf8").splitlines():
        label, _, text = line.partition("\t")
        if text and text not in seen:
            seen[text] = label
        if len(seen) == limit:
            break
    return [(label, text) for text, label in seen.items()]


def make_inputs(work: Path) -> dict[str, str]:
    """Write every input into ``work``; returns the placeholders the argument table uses."""
    work.mkdir(parents=True, exist_ok=True)
    news = [json.loads(line) for line in (SAMPLES / "news.jsonl").read_text(encoding="utf8").splitlines()[:12]]
    spans = [json.loads(line) for line in (SAMPLES / "news_spans.jsonl").read_text(encoding="utf8").splitlines()[:12]]
    shutil.copy(SAMPLES / "patterns.jsonl", work / "patterns.jsonl")
    sms = _sms(40)
    images, audio = work / "images", work / "audio"
    images.mkdir(exist_ok=True)
    audio.mkdir(exist_ok=True)
    for name, rgb in (("red.png", (200, 30, 30)), ("blue.png", (30, 30, 200))):
        _png(images / name, rgb)
    for name in ("a.wav", "b.wav"):
        _wav(audio / name)
    shutil.copy(audio / "a.wav", audio / "c.ogg")  # custom-audio-manual asks for .ogg files only
    with (work / "sms.csv").open("w", encoding="utf8", newline="") as f:
        import csv

        writer = csv.writer(f)
        writer.writerow(["Text", "Label"])  # Prodigy's CSV docs capitalise the header
        writer.writerows((text, label) for label, text in sms[:20])
    uri = "data:image/png;base64," + base64.b64encode((images / "red.png").read_bytes()).decode("ascii")
    words = sorted({w for eg in news for w in eg["text"].replace(".", " ").replace(",", " ").split()})
    (work / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n", encoding="utf8")
    (work / "recipes").mkdir(exist_ok=True)
    for name in ("basic.html", "intermediate.html"):
        (work / "recipes" / name).write_text("<p>{{ item1 }}</p><p>{{ item2 }}</p>", encoding="utf8")
    return {
        "{work}": str(work),
        "{news}": _jsonl(work / "news.jsonl", news),
        "{spans}": _jsonl(work / "spans.jsonl", spans),
        "{patterns}": str(work / "patterns.jsonl"),
        "{sms}": _jsonl(work / "sms.jsonl", [{"text": text} for _, text in sms]),
        "{csv}": str(work / "sms.csv"),
        "{images}": str(images),
        "{images_jsonl}": _jsonl(work / "images.jsonl", [{"image": uri, "meta": {"file": "red.png"}}]),
        "{audio}": str(audio),
        "{vocab}": str(work / "vocab.txt"),
        # Records without "text": question answering and duplicate detection
        "{qa}": _jsonl(work / "qa.jsonl", [{"question": "What color is the sky?", "question_answer": "blue"},
                                          {"question": "Who wrote Hamlet?", "question_answer": "Shakespeare"}]),
        "{qa_ctx}": _jsonl(work / "qa_ctx.jsonl", [{"question": "Where did Maria Lopez work?", "text": news[0]["text"]}]),
        "{dup}": _jsonl(work / "dup.jsonl", [{"item1": "Acme Robotics Inc.", "item2": "ACME Robotics"},
                                            {"item1": "Northwind Bank", "item2": "Southwind Bank"}]),
        "{compare_a}": _jsonl(work / "a.jsonl", [{"id": i, "input": {"text": eg["text"]}, "output": {"text": "A: " + eg["text"][:40]}}
                                                for i, eg in enumerate(news[:4])]),
        "{compare_b}": _jsonl(work / "b.jsonl", [{"id": i, "input": {"text": eg["text"]}, "output": {"text": "B: " + eg["text"][:40]}}
                                                for i, eg in enumerate(news[:4])]),
        "{nested}": _jsonl(work / "nested.jsonl", [{"id": i, "text": eg["text"], "accept": ["distorsión"], "pre-ann-category": "x",
                                                    "options": [{"id": "distorsión", "text": "distorsión"}]}
                                                   for i, eg in enumerate(news[:4])]),
    }
