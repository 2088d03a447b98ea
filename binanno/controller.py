"""The one owner of runtime state: the stream, the model worker, sessions and the store.

A single worker thread pulls the recipe's stream into a look-ahead log and applies model
updates, so the model is only ever touched by that thread. Requests only read the log and
write answers: a request never waits for training.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
import traceback
from collections import Counter, deque
from typing import Any, Callable, Iterator

from .db import Database
from .errors import UserError
from .hashing import set_hashes
from .types import ANSWERS, Components, Task

ACCURACY_WINDOW = 50


class AnswerError(UserError):
    """An answer the recipe's ``validate_answer`` or the format refused; nothing was stored.

    ``refused`` lists each refused answer of the request as ``{"index", "_task_hash", "error"}``,
    so the page can take those out of its outbox and send the others again.
    """

    def __init__(self, message: str, refused: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.refused: list[dict[str, Any]] = refused or []


class Controller:
    """Serve a recipe's questions to named sessions and store their answers."""

    def __init__(self, components: Components, db: Database, settings: dict[str, Any]) -> None:
        if "stream" not in components:
            raise UserError("The recipe returned no 'stream': a recipe that serves questions must return one")
        self.components = components
        self.settings = settings
        self.db = db
        self.dataset: str = components.get("dataset") or "default"
        self.view_id: str = components.get("view_id") or "text"
        self.batch_size = max(1, int(settings["batch_size"]))
        self.overlap = bool(settings["feed_overlap"])
        self.lookahead = max(self.batch_size * 2, int(settings["lookahead"]))
        self.exclude_by = "input" if settings.get("exclude_by") == "input" else "task"
        self.resend_after = float(settings.get("resend_after", 300))
        self._update: Callable[[list[Task]], Any] | None = components.get("update")

        db.add_dataset(self.dataset, {"view_id": self.view_id})
        excluded = list(components.get("exclude") or [])
        # Without overlap, anything answered in this dataset by anyone is done; with overlap,
        # each session skips only what it answered itself (loaded when the session appears).
        self._done: set[int] = db.hashes(excluded + ([] if self.overlap else [self.dataset]), self.exclude_by)
        self._session_done: dict[str, set[int]] = {}
        stored = db.stats(self.dataset)
        self.totals: Counter[str] = Counter(stored["answers"])
        self.session_counts: dict[str, Counter[str]] = {}

        self._cond = threading.Condition()
        self._log: deque[Task] = deque()
        self._offset = 0  # how many tasks were dropped from the front of the log
        self._seen: set[int] = set()
        self._cursors: dict[str, int] = {}
        self._sent: dict[str, dict[int, tuple[float, Task]]] = {}
        self._pending: list[Task] = []
        self._exhausted = False
        self.error: str | None = None
        self._serving = False  # until start() returns, a failure is raised by start(), not printed
        self.updates = 0
        self.last_update: Any = None
        self._accuracy: deque[bool] = deque(maxlen=ACCURACY_WINDOW)
        self._recorded: set[tuple[str, int]] = set()
        self._stopping = False
        self._busy = False
        self._iter: Iterator[Task] = iter(components["stream"])
        self._worker = threading.Thread(target=self._run, name="binanno-worker", daemon=True)

    # lifecycle
    def start(self, wait: bool = True) -> None:
        """Start the worker; with ``wait``, block until the first look-ahead is filled.

        Waiting surfaces a bad input early, as a one-line error before the server starts.
        """
        if self.components.get("on_load"):
            self.components["on_load"](self)
        self._worker.start()
        if wait:
            with self._cond:
                self._cond.wait_for(lambda: self._exhausted or self.error is not None or len(self._log) >= self.lookahead)
                # A bad record in the first look-ahead (a malformed line 7, say) stops the start.
                if self.error is not None:
                    raise UserError(self.error)
                self._serving = True
        else:
            with self._cond:
                self._serving = True

    def close(self) -> None:
        """Apply the answers still waiting for the model, stop the worker, run on_exit."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._worker.is_alive():
            self._worker.join()
        if self.components.get("on_exit"):
            self.components["on_exit"](self)

    def _idle(self) -> bool:
        return not self._pending and not self._busy and not self._wants_more()

    def wait_idle(self, timeout: float = 600.0) -> bool:
        """Block until every answer received is learnt from and the look-ahead is full (or the
        stream has ended); False on timeout. While idle the worker touches neither stream nor model,
        so a caller may read the model (the simulations evaluate it here)."""
        with self._cond:
            return self._cond.wait_for(self._idle, timeout=timeout)

    # the worker: the only thread that touches the stream and the model
    def _wants_more(self) -> bool:
        if self._exhausted or self.error is not None:
            return False
        front = max(self._cursors.values(), default=self._offset)
        return self._offset + len(self._log) - front < self.lookahead

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or bool(self._pending) or self._wants_more())
                batch, self._pending = self._pending, []
                if not batch and self._stopping:
                    return
                self._busy = bool(batch)
            if batch:
                self._apply_update(batch)
                continue
            self._pull()

    def _apply_update(self, batch: list[Task]) -> None:
        try:
            result = self._update(batch) if self._update else None
        except Exception:  # a bug in a model must not take the annotator's session down
            traceback.print_exc()
            result = None
        with self._cond:
            self.updates += 1
            self.last_update = result
            unsent = self._take_back_unsent()
            self._busy = False
            self._cond.notify_all()
        if unsent:
            self._iter.give_back(unsent)  # type: ignore[attr-defined]  # only this thread touches the stream

    def _take_back_unsent(self) -> list[Task]:
        """After an update, the questions scored ahead but not sent yet go back to a sorter that can
        rank them again (binanno.stream.sorters), so the next ones follow the new weights. One batch
        stays, so a request that comes while the sorter rescores is still answered at once. With
        ``feed_overlap`` every session has its own place in the log, so nothing is taken back."""
        if self.overlap or not hasattr(self._iter, "give_back"):
            return []
        front = self._cursors.get("", self._offset) - self._offset + self.batch_size
        unsent = list(self._log)[front:]
        for _ in unsent:
            self._log.pop()
        for task in unsent:
            self._seen.discard(task["_task_hash"])
        if unsent and self.error is None:
            self._exhausted = False  # the sorter holds them again, so the stream has more
        return unsent

    def _pull(self) -> None:
        try:
            task = next(self._iter)
        except StopIteration:
            with self._cond:
                self._exhausted = True
                self._cond.notify_all()
            return
        except UserError as e:
            self._fail(str(e))
            return
        except Exception as e:
            traceback.print_exc()
            self._fail(f"The stream failed: {type(e).__name__}: {e}")
            return
        task = set_hashes(task)
        with self._cond:
            key = task["_task_hash"] if self.exclude_by == "task" else task["_input_hash"]
            if task["_task_hash"] not in self._seen and key not in self._done:
                self._seen.add(task["_task_hash"])
                self._log.append(task)
                self._cond.notify_all()

    def _fail(self, message: str) -> None:
        with self._cond:
            self.error = message
            self._exhausted = True
            self._cond.notify_all()
            announce = self._serving
        if announce:
            print(f"✘ {message}", file=sys.stderr)

    # sessions
    def session_name(self, session_id: str | None) -> str:
        return session_id or f"{self.dataset}-default"

    def _session(self, session_id: str) -> str:
        """Register a session on first sight and return its cursor key."""
        if session_id not in self._sent:
            self._sent[session_id] = {}
            self.session_counts[session_id] = Counter()
            if self.overlap:
                self._session_done[session_id] = self.db.hashes([self.dataset], self.exclude_by, session_id=session_id)
        key = session_id if self.overlap else ""
        self._cursors.setdefault(key, self._offset)
        return key

    def _skip(self, task: Task, session_id: str) -> bool:
        key = task["_task_hash"] if self.exclude_by == "task" else task["_input_hash"]
        if key in self._done:
            return True
        return self.overlap and key in self._session_done[session_id]

    def get_questions(self, session_id: str | None, wait: float = 30.0) -> list[Task]:
        """The next batch for a session: stale unanswered questions first, then new ones.

        Waits (up to ``wait`` seconds) only when nothing is scored yet.
        """
        session_id = self.session_name(session_id)
        now = time.time()
        with self._cond:
            key = self._session(session_id)
            sent = self._sent[session_id]
            tasks: list[Task] = []
            for task_hash, (when, task) in list(sent.items()):
                if len(tasks) < self.batch_size and now - when > self.resend_after:
                    sent[task_hash] = (now, task)
                    tasks.append(task)
            deadline = now + wait
            while len(tasks) < self.batch_size:
                position = self._cursors[key] - self._offset
                if position < len(self._log):
                    task = self._log[position]
                    self._cursors[key] += 1
                    if not self._skip(task, session_id) and task["_task_hash"] not in sent:
                        sent[task["_task_hash"]] = (now, task)
                        tasks.append(task)
                    continue
                if self._exhausted or tasks:
                    break
                self._cond.notify_all()
                if not self._cond.wait(timeout=max(0.0, deadline - time.time())):
                    break
            self._trim()
            self._cond.notify_all()
        return [{**t, "_session_id": session_id} for t in tasks]

    def ready_questions(self, session_id: str) -> list[Task] | None:
        """``get_questions`` without waiting; None when it would wait (a new session, nothing scored yet)."""
        with self._cond:
            if session_id not in self._sent:
                return None  # registering a session may read the database
        tasks = self.get_questions(session_id, wait=0)
        return tasks if tasks or self._exhausted else None

    def _trim(self) -> None:
        # With overlap a session that joins later still needs the whole log.
        if self.overlap:
            return
        while self._log and self._offset < self._cursors.get("", 0):
            self._log.popleft()
            self._offset += 1

    def receive_answers(self, answers: list[Task], session_id: str | None) -> int:
        """Validate and commit answers, then queue them for the model; returns how many were stored.

        The database commit happens before this returns, so an acknowledged answer is never lost.
        """
        session_id = self.session_name(session_id)
        validate = self.components.get("validate_answer")
        clean: list[Task] = []
        refused: list[dict[str, Any]] = []
        # Every answer is checked before any is stored, so one reply names all the refused ones.
        for i, task in enumerate(answers):
            if not isinstance(task, dict) or task.get("answer") not in ANSWERS:
                raise AnswerError(f"answer {i}: needs 'answer' set to one of {', '.join(ANSWERS)}")
            if not isinstance(task.get("text", ""), str):
                raise AnswerError(f"answer {i}: 'text' must be a string")
            if validate:
                try:
                    validate(task)
                except Exception as e:
                    refused.append({"index": i, "_task_hash": task.get("_task_hash"), "error": str(e) or type(e).__name__})
                    continue
            task = set_hashes(dict(task))  # type: ignore[arg-type]
            task["_session_id"] = session_id
            task.setdefault("_timestamp", int(time.time()))
            clean.append(task)
        if refused:
            first = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise AnswerError(f"answer {first['index']} was refused: {first['error']}{more}", refused)
        for_model = copy.deepcopy(clean)
        to_store = self.components["before_db"](clean) if self.components.get("before_db") else clean
        stored = self.db.add_answers(self.dataset, to_store, session_id=session_id)
        with self._cond:
            self._session(session_id)
            for task in for_model:
                self._sent[session_id].pop(task["_task_hash"], None)
                if (session_id, task["_task_hash"]) in self._recorded:
                    continue  # a re-sent batch: stored again harmlessly, counted and learned from once
                self._recorded.add((session_id, task["_task_hash"]))
                self.totals[task["answer"]] += 1
                self.session_counts[session_id][task["answer"]] += 1
                key = task["_task_hash"] if self.exclude_by == "task" else task["_input_hash"]
                (self._session_done[session_id] if self.overlap else self._done).add(key)
                score = (task.get("meta") or {}).get("score")
                if isinstance(score, (int, float)) and task["answer"] != "ignore":
                    self._accuracy.append((score >= 0.5) == (task["answer"] == "accept"))
                self._pending.append(task)
            self._cond.notify_all()
        return stored

    def status(self, session_id: str | None = None) -> dict[str, Any]:
        """Counts, the model's recent accuracy and progress, as the page and `stats` show them."""
        session_id = self.session_name(session_id)
        with self._cond:
            counts = self.session_counts.get(session_id, Counter())
            accuracy = sum(self._accuracy) / len(self._accuracy) if self._accuracy else None
            status: dict[str, Any] = {
                "answered": sum(self.totals.values()), "session_answered": sum(counts.values()),
                "accept": self.totals["accept"], "reject": self.totals["reject"], "ignore": self.totals["ignore"],
                "model_accuracy": accuracy, "model_accuracy_n": len(self._accuracy),
                "updates": self.updates, "pending_updates": len(self._pending) + (1 if self._busy else 0),
                "idle": self._idle(),
                "exhausted": self._exhausted and self._offset + len(self._log) <= max(self._cursors.values(), default=0),
            }
            if self.error:
                status["error"] = self.error
        return status

    def total(self) -> int | None:
        """The recipe's ``total`` component (an int, or a callable returning one), or None."""
        total = self.components.get("total")
        if callable(total):
            try:
                total = total()
            except Exception:
                traceback.print_exc()
                return None
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def progress(self) -> float | None:
        """The recipe's progress estimate (0 to 1), or None when it has none."""
        progress = self.components.get("progress")
        if progress is None:
            return None
        try:
            value = progress(self, self.last_update)
        except Exception:
            traceback.print_exc()
            return None
        return None if value is None else max(0.0, min(1.0, float(value)))
