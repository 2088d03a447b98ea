"""Answers of every kind, in the task format, as the recipes store them: for train and data-to-spacy.

Each builder returns tasks with hashes set; store them with ``Database.add_answers``.
"""

from __future__ import annotations

import functools
from typing import Any

import spacy
from fixtures_ner import complete_task, make_sentences, span_answer

from binanno.components.preprocess import tokens_of
from binanno.hashing import set_hashes
from binanno.types import Task

SPORT = ["The team won the match {}.", "A late goal settled the game {}.", "The striker scored twice {}."]
MONEY = ["Shares fell on the stock market {}.", "The bank raised interest rates {}.", "Investors sold bonds {}."]
WHEN = ["today", "again", "on Monday", "this week", "at last", "in the rain", "after all"]
OPTIONS = [{"id": "SPORT", "text": "Sport"}, {"id": "MONEY", "text": "Money"}, {"id": "NEWS", "text": "News"}]


@functools.lru_cache(maxsize=1)
def _blank() -> Any:
    return spacy.blank("en")


def tokens(text: str) -> list[dict[str, Any]]:
    """Prodigy-style tokens from blank:en's tokenizer (what the manual interfaces store)."""
    return tokens_of(_blank().make_doc(text))


def ner_complete(n: int, seed: int = 0) -> list[Task]:
    """ner.manual / ner.correct answers: accepted, ``_complete``, with ``tokens``."""
    return [{**complete_task(text, ents), "tokens": tokens(text), "_view_id": "ner_manual"}  # type: ignore[typeddict-unknown-key]
            for text, ents in make_sentences(n, seed=seed)]


def ner_binary(n: int, seed: int = 0) -> list[Task]:
    """ner.teach answers: every gold entity accepted, and the wrong label on each one rejected."""
    answers = []
    for text, ents in make_sentences(n, seed=seed):
        for start, end, label in ents:
            answers.append(span_answer(text, start, end, label, "accept"))
            answers.append(span_answer(text, start, end, "ORG" if label == "PERSON" else "PERSON", "reject"))
    return answers


def texts(n: int) -> list[tuple[str, str]]:
    """(text, its topic) pairs, SPORT and MONEY in turn."""
    out = []
    for i in range(n):
        label, templates = (("SPORT", SPORT), ("MONEY", MONEY))[i % 2]
        out.append((templates[(i // 2) % 3].format(WHEN[(i // 2) % len(WHEN)]), label))
    return out


def textcat_binary(n: int) -> list[Task]:
    """textcat.teach answers on SPORT: accepted for sport texts, rejected for the others."""
    return [set_hashes({"text": t, "label": "SPORT", "answer": "accept" if lab == "SPORT" else "reject"})  # type: ignore[typeddict-item]
            for t, lab in texts(n)]


def textcat_choice(n: int, multi: bool = False) -> list[Task]:
    """textcat.manual choice answers: one option chosen each, or (``multi``) NEWS chosen too on every third."""
    out = []
    for i, (t, lab) in enumerate(texts(n)):
        chosen = [lab, "NEWS"] if multi and i % 3 == 0 else [lab]
        out.append(set_hashes({"text": t, "options": OPTIONS, "accept": chosen, "answer": "accept", "_view_id": "choice"}))  # type: ignore[typeddict-item]
    return out


def spans_manual(n: int, seed: int = 0) -> list[Task]:
    """spans.manual answers: PERSON and ORG, and an overlapping SURNAME inside each PERSON."""
    out = []
    for text, ents in make_sentences(n, seed=seed):
        spans = [{"start": s, "end": e, "label": lab} for s, e, lab in ents]
        spans += [{"start": text.index(" ", s) + 1, "end": e, "label": "SURNAME"} for s, e, lab in ents if lab == "PERSON"]
        out.append(set_hashes({"text": text, "tokens": tokens(text), "spans": spans, "answer": "accept",  # type: ignore[typeddict-item]
                               "_view_id": "spans_manual"}))
    return out
