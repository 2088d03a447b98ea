"""What a dataset's answers add up to (``binanno stats``): counts per answer, label and session, the
model's accuracy at question time, seconds per question type and each annotator's speed."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any, Iterable

from ..types import Task


def dataset_stats(name: str, stored: Iterable[Task]) -> dict[str, Any]:
    """The statistics of dataset ``name`` from its ``stored`` answers (``Database.stats`` reads them)."""
    answers: Counter[str] = Counter()
    labels: dict[str, Counter[str]] = {}
    sessions: dict[str, Counter[str]] = {}
    correct = scored = 0
    recent: list[bool] = []
    timings: dict[str, list[tuple[float, int]]] = {}
    speed: dict[str, list[tuple[int, float | None]]] = {}  # session -> (timestamp, seconds on screen)
    for task in stored:
        answer = task["answer"]
        answers[answer] += 1
        seconds = task.get("_view_seconds")  # type: ignore[misc]
        if isinstance(seconds, (int, float)) and 0 < seconds < 3600 and answer != "ignore":
            kind = str(task.get("_question") or "binary")  # type: ignore[misc]
            timings.setdefault(kind, []).append((float(seconds), len(task.get("tokens") or [])))
        for label in task_labels(task):
            labels.setdefault(label, Counter())[answer] += 1
        sessions.setdefault(task.get("_session_id") or "", Counter())[answer] += 1
        speed.setdefault(task.get("_session_id") or "", []).append(
            (int(task.get("_timestamp") or 0), float(seconds) if isinstance(seconds, (int, float)) and 0 < seconds < 3600 else None))
        score = (task.get("meta") or {}).get("score")
        if isinstance(score, (int, float)) and answer in ("accept", "reject"):
            hit = (score >= 0.5) == (answer == "accept")
            correct += hit
            scored += 1
            recent = (recent + [hit])[-100:]
    return {
        "dataset": name, "total": sum(answers.values()), "answers": dict(answers),
        "labels": {k: dict(v) for k, v in sorted(labels.items())},
        "sessions": {k: dict(v) for k, v in sorted(sessions.items())},
        "model_accuracy": correct / scored if scored else None, "model_accuracy_n": scored,
        "model_accuracy_last_100": sum(recent) / len(recent) if recent else None,
        "question_seconds": {kind: question_seconds(rows) for kind, rows in sorted(timings.items())},
        "session_speed": {k: session_speed(v) for k, v in sorted(speed.items())},
    }


def question_seconds(rows: list[tuple[float, int]]) -> dict[str, float | int | None]:
    """Seconds on screen for one question type: how many, the median, and the median per token
    (what ``ner.simulate --decision-cost`` and ``--cost-token`` take)."""
    seconds = sorted(s for s, _ in rows)
    per_token = sorted(s / n for s, n in rows if n)
    return {"n": len(seconds), "median": statistics.median(seconds),
            "median_per_token": round(statistics.median(per_token), 3) if per_token else None}


def session_speed(rows: list[tuple[int, float | None]]) -> dict[str, float | None]:
    """One annotator's speed: the median seconds on screen per answer, and answers per minute of
    work (gaps of over 10 minutes between two answers are breaks, not work)."""
    seconds = [s for _, s in rows if s is not None]
    stamps = sorted(t for t, _ in rows if t)
    working = sum(b - a for a, b in zip(stamps, stamps[1:]) if b - a <= 600)
    return {"median_seconds": round(statistics.median(seconds), 2) if seconds else None,
            "per_minute": round(len(stamps) / (working / 60), 2) if working else None}


def task_labels(task: Task) -> list[str]:
    """The labels a task asks about: its span labels, else its label."""
    labels = [s["label"] for s in task.get("spans", []) if s.get("label")]
    if not labels and task.get("label"):
        labels = [task["label"]]
    return labels
