"""Task routing: which named session gets which question, and how many sessions answer each.

``annotations_per_task`` N sends each question to N distinct sessions (a fraction, as in
Prodigy: 1.5 sends every question to one session and half of them, picked by their key, to a
second); ``None`` sends every question to every session (``feed_overlap``). A question a
session fetched and did not answer within ``resend_after`` seconds goes back to the others.

The router holds no lock of its own: the controller calls it under its condition.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Callable

from .errors import UserError
from .hashing import task_key
from .types import Task


def per_task(annotations_per_task: float | None, feed_overlap: bool) -> float | None:
    """The number of sessions each question goes to (None: every session), checked."""
    if annotations_per_task is None:
        return None if feed_overlap else 1.0
    if not annotations_per_task >= 1 or math.isinf(annotations_per_task):
        raise UserError(f"annotations_per_task must be a number of at least 1, got {annotations_per_task}: "
                        "use 1 for one annotator per question, or feed_overlap for every session")
    return float(annotations_per_task)


class Router:
    """A look-ahead log of questions, one cursor per session, and who holds or answered each."""

    def __init__(self, target: float | None, key: Callable[[Task], str], resend_after: float,
                 done: set[str], answered: dict[str, set[str]]) -> None:
        self.target = target
        self.key = key  # the exclusion key: task or input (binanno.hashing)
        self.resend_after = resend_after
        self.done = done  # answered in an excluded dataset: asked of nobody
        self.answered = answered  # key -> sessions that answered it in this dataset
        self.holding: dict[str, set[str]] = {}  # key -> sessions it is sent to, unanswered
        self.sent: dict[str, dict[str, tuple[float, Task]]] = {}  # session -> task key -> (when, task)
        self.returned: deque[Task] = deque()  # sent, not answered in time: for whoever asks next
        self.log: deque[Task] = deque()
        self.offset = 0  # how many tasks were dropped from the front of the log
        self.cursors: dict[str, int] = {}

    def wanted(self, key: str) -> int | float:
        """How many sessions should answer the question with this key."""
        if self.target is None:
            return math.inf
        whole = math.floor(self.target)
        # A fixed pick per question, so a restart sends the same half to a second annotator.
        return whole + (int(key[:8], 16) / 16 ** 8 < self.target - whole)

    def _count(self, key: str) -> int:
        return len(self.answered.get(key, set()) | self.holding.get(key, set()))

    def needed(self, task: Task) -> bool:
        """Whether the question still needs a session (answered or held by fewer than it wants)."""
        key = self.key(task)
        return key not in self.done and self._count(key) < self.wanted(key)

    def join(self, session: str) -> None:
        """Give a session seen for the first time its place at the front of the log."""
        if session not in self.sent:
            self.sent[session] = {}
            self.cursors[session] = self.offset

    def _eligible(self, task: Task, session: str) -> bool:
        key = self.key(task)
        if session in self.answered.get(key, ()) or session in self.holding.get(key, ()):
            return False
        return task_key(task) not in self.sent[session] and self.needed(task)

    def _hand(self, task: Task, session: str, now: float) -> None:
        self.sent[session][task_key(task)] = (now, task)
        self.holding.setdefault(self.key(task), set()).add(session)

    def expire(self, now: float) -> None:
        """Take back the questions sent more than ``resend_after`` seconds ago and not answered.

        Each session's ``sent`` is in the order it was handed out (a key is only ever added anew), so
        the scan stops at a session's first question still in time: a fetch costs the expired ones,
        not every question out (with 50 sessions it scanned 500 on each fetch, 0.13 ms of 1 ms).
        """
        for session, sent in self.sent.items():
            while sent:
                tkey, (when, task) = next(iter(sent.items()))
                if now - when <= self.resend_after:
                    break
                del sent[tkey]
                self.holding.get(self.key(task), set()).discard(session)
                self.returned.append(task)

    def take_returned(self, session: str, limit: int, now: float) -> list[Task]:
        """Questions other sessions (or this one) abandoned, that this session may answer."""
        tasks: list[Task] = []
        for task in list(self.returned):
            if len(tasks) >= limit:
                break
            if not self.needed(task):
                self.returned.remove(task)  # enough sessions answered it meanwhile
            elif self._eligible(task, session):
                self.returned.remove(task)
                self._hand(task, session, now)
                tasks.append(task)
        return tasks

    def next_from_log(self, session: str, now: float) -> Task | None | bool:
        """The session's next question from the log; None when it is at the log's end; False
        when the question at its cursor is not for it (it moves on)."""
        position = max(self.cursors[session], self.offset) - self.offset
        if position >= len(self.log):
            self.cursors[session] = self.offset + len(self.log)
            return None
        task = self.log[position]
        self.cursors[session] = self.offset + position + 1
        if not self._eligible(task, session):
            return False
        self._hand(task, session, now)
        return task

    def answer(self, session: str, task: Task) -> None:
        """Record that ``session`` answered ``task``."""
        key = self.key(task)
        self.join(session)
        self.sent[session].pop(task_key(task), None)
        self.holding.get(key, set()).discard(session)
        self.answered.setdefault(key, set()).add(session)

    def trim(self) -> None:
        """Drop the front of the log while its questions need no more sessions (sent or answered
        often enough): one that comes back later comes back through ``returned``."""
        while self.log and not self.needed(self.log[0]):
            self.log.popleft()
            self.offset += 1

    def front(self) -> int:
        """The farthest any session has read into the log."""
        return max(self.cursors.values(), default=self.offset)

    def at_end(self, session: str) -> bool:
        """Whether nothing is left for ``session`` now: the log read, nothing abandoned waiting,
        and nothing held by another session that could come back."""
        if self.returned or self.cursors.get(session, self.offset) < self.offset + len(self.log):
            return False
        return not any(sent for other, sent in self.sent.items() if other != session)
