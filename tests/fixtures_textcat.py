"""Shared text-classification fixtures: made-up spam and ham texts, small trained spaCy textcats.

Import what you need in a test module (``from fixtures_textcat import ...``). Each trained
pipeline is built once per test process (about a second) and saved to a temporary
directory; tests load their own fresh copy from there, so updates don't leak between tests.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from binanno.hashing import set_hashes
from binanno.models.textcat_spacy import SpacyTextcat
from binanno.types import Task

SPAM = [
    "Win a free prize now, call to claim your cash reward",
    "Free entry to win a brand new phone, text WIN to claim",
    "Congratulations, you won a free holiday: claim your prize today",
    "URGENT: your cash prize is waiting, call now to claim it",
    "Claim your free ringtone now, reply WIN to this text",
    "You have won a guaranteed cash award, call to claim",
]
HAM = [
    "See you at lunch tomorrow, shall we meet at noon?",
    "I'll be home late tonight, the meeting ran long",
    "Can you pick up some milk on your way back?",
    "Thanks for dinner yesterday, it was lovely to see you",
    "Are we still going to the cinema on Friday?",
    "Sorry I missed your call, I was in the shower",
]


def answer(text: str, label: str, answer: str) -> Task:
    """A binary textcat answer, as the server would store it."""
    task: dict[str, Any] = {"text": text, "label": label, "answer": answer}
    return set_hashes(task, task_keys=("label",))  # type: ignore[arg-type]


def spam_answers(label: str = "SPAM") -> list[Task]:
    """Accept ``label`` for every spam text and reject it for every ham text."""
    return [answer(t, label, "accept") for t in SPAM] + [answer(t, label, "reject") for t in HAM]


@functools.cache
def trained_textcat_dir(architecture: str = "bow", exclusive: bool = False) -> Path:
    """A blank:en pipeline with a textcat taught SPAM/HAM for a few steps, saved; returns its directory."""
    model = SpacyTextcat.load("blank:en", ["SPAM", "HAM"], exclusive=exclusive, architecture=architecture, replay=0)
    answers = spam_answers("SPAM") + [answer(t, "HAM", "accept") for t in HAM] + [answer(t, "HAM", "reject") for t in SPAM]
    for _ in range(3):
        model.update(answers)
    root = Path(tempfile.mkdtemp(prefix="binanno-textcat-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    path = root / f"{architecture}-{'exclusive' if exclusive else 'multilabel'}"
    model.to_disk(path)
    return path
