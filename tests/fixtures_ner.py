"""Shared NER fixtures: a blank English NER trained for a few seconds on made-up sentences.

Import what you need in a test module (``from fixtures_ner import ...``) and wrap
``trained_ner`` in a fixture there; tests/conftest.py belongs to the lead. The trained
pipeline is built once per test process and saved to a temporary directory, and each
test loads its own fresh copy from there, so updates in one test don't leak into another.
"""

from __future__ import annotations

import atexit
import functools
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from binanno.hashing import set_hashes
from binanno.models.spacy_ner import SpacyNER
from binanno.types import Task

LABELS = ["PERSON", "ORG"]
PEOPLE = ["Alice Smith", "Bob Jones", "Carol White", "Dan Brown", "Eve Black", "Frank Green"]
ORGS = ["Acme Corp", "Globex Inc", "Initech", "Umbrella Ltd", "Hooli", "Vandelay Industries"]
TEMPLATES = [
    "{p} works for {o} now.",
    "Yesterday {p} joined {o} in town.",
    "{o} hired {p} last week.",
    "The report by {p} was published.",
    "Shares of {o} rose sharply.",
    "We met {p} and {q} at lunch.",
]


def make_sentences(n: int, seed: int = 0) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """``n`` template sentences with their complete gold entities (char offsets)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)]
        fills = {"p": rng.choice(PEOPLE), "q": rng.choice(PEOPLE), "o": rng.choice(ORGS)}
        text, ents, pos = "", [], 0
        for part in template.replace("{", "\0{").replace("}", "}\0").split("\0"):
            if part.startswith("{"):
                value, label = fills[part[1]], "ORG" if part[1] == "o" else "PERSON"
                ents.append((pos, pos + len(value), label))
                part = value
            text += part
            pos += len(part)
        out.append((text, ents))
    return out


def complete_task(text: str, ents: list[tuple[int, int, str]]) -> Task:
    """An accepted task whose spans are all of the text's entities."""
    task: dict[str, Any] = {"text": text, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in ents]}
    task.update(answer="accept", _complete=True)
    return set_hashes(task)  # type: ignore[arg-type]


def span_answer(text: str, start: int, end: int, label: str, answer: str) -> Task:
    """A one-span binary answer, as the server would store it."""
    task: dict[str, Any] = {"text": text, "spans": [{"start": start, "end": end, "label": label}], "answer": answer}
    return set_hashes(task)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1)
def trained_ner_dir() -> Path:
    """Train once per process (a few seconds) and save; returns the pipeline directory."""
    model = SpacyNER.load("blank:en", LABELS, dropout=0.1, seed=0, learn_rate=0.001)
    tasks = [complete_task(t, e) for t, e in make_sentences(60)]
    keys = model.remember(tasks)
    examples = [eg for k in keys if (eg := model.example(k)) is not None]
    rng = random.Random(0)
    for _ in range(12):
        rng.shuffle(examples)
        for i in range(0, len(examples), 8):
            model.train_batch(examples[i : i + 8])
    root = Path(tempfile.mkdtemp(prefix="binanno-ner-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    path = root / "pipeline"
    model.to_disk(path)
    return path


def trained_ner() -> SpacyNER:
    """A fresh SpacyNER over the small trained pipeline (blank learn-rate settings)."""
    return SpacyNER.load(str(trained_ner_dir()), LABELS, learn_rate=0.001, replay=0, dropout=0.0)
