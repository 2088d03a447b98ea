"""The one owner of runtime state: the stream, the model worker, sessions and the store.

A single worker thread pulls the recipe's stream into a look-ahead log and applies model
updates, so the model is only ever touched by that thread. Requests only read the log and
write answers: a request never waits for training.
"""

from __future__ import annotations

import copy
import math
import sys
import threading
import time
import traceback
from collections import Counter, deque
from typing import Any, Callable, Iterator

from .answers import has_content, refused_answers
from .components.db import Database
from .errors import UserError, did_you_mean
from .hashing import input_key, set_hashes, settle_hashes, task_key
from .routing import Router, per_task
from .types import Components, Task

ACCURACY_WINDOW = 50
STORE_CHUNK = 500  # answers per transaction
LOOP_ANSWERS = 200  # answers in a request that may be checked and stored from the event loop (answers_on_loop)


class AnswerError(UserError):
    """An answer the recipe's ``validate_answer`` or the format refused; nothing was stored.

    ``refused`` lists each refused answer of the request as ``{"index", "_task_hash", "error"}``,
    so the page can take those out of its outbox and send the others again.
    """

    def __init__(self, message: str, refused: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.refused: list[dict[str, Any]] = refused or []


# Components Prodigy documents that binanno does not run (the recipe still starts without them).
NOT_RUN = {"event_hooks": "custom events from the page (window.prodigy.event) will fail",
           "db": "answers go to binanno's database (--db / BINANNO_DB)",
           "get_session_id": "sessions are named by ?session= in the page's address",
           "task_router": "questions are routed by feed_overlap / annotations_per_task"}


def component_warnings(components: Components) -> list[str]:
    """One line per component the recipe returned that binanno ignores: Prodigy's it doesn't run, and misspellings."""
    known = list(Components.__annotations__)
    out = []
    for name in components:
        if name in NOT_RUN:
            out.append(f"The recipe returned '{name}', which binanno does not run: {NOT_RUN[name]}")
        elif name not in known:
            out.append(f"The recipe returned an unknown component '{name}', which is ignored. {did_you_mean(name, known)}")
    return out


def bad_score(task: Task) -> str | None:
    """Why a scored task can't be sent as JSON (a NaN or infinite score from a model), else None.

    Loaders refuse NaN in input files, so only the scores a model adds need checking: far cheaper
    per question than serializing the whole task to find out.
    """
    meta = task.get("meta")
    scores = [meta.get("score")] if isinstance(meta, dict) else []
    for key in ("spans", "options"):  # a span's score, and a choice option's (ner.teach's label cards)
        items = task.get(key)
        scores += [s.get("score") for s in items if isinstance(s, dict)] if isinstance(items, list) else []
    for score in scores:
        if isinstance(score, float) and not math.isfinite(score):
            return f"score {score}"
    return None


class Controller:
    """Serve a recipe's questions to named sessions and store their answers."""

    def __init__(self, components: Components, db: Database, settings: dict[str, Any]) -> None:
        if "stream" not in components:
            raise UserError("The recipe returned no 'stream': a recipe that serves questions must return one")
        for warning in component_warnings(components):
            print(f"⚠ {warning}", file=sys.stderr)
        self.components = components
        self.settings = settings
        self.db = db
        self.dataset: str = components.get("dataset") or "default"
        self.view_id: str = components.get("view_id") or "text"
        self.batch_size = max(1, int(settings["batch_size"]))
        self.overlap = bool(settings["feed_overlap"])
        target = per_task(settings.get("annotations_per_task"), self.overlap)
        self.overlap = target is None
        self.lookahead = max(self.batch_size * 2, int(settings["lookahead"]))
        self.exclude_by = "input" if settings.get("exclude_by") == "input" else "task"
        self.resend_after = float(settings.get("resend_after", 300))
        self._update: Callable[[list[Task]], Any] | None = components.get("update")

        excluded = list(components.get("exclude") or [])
        # Anything answered in an excluded dataset is done; in this dataset a question is done once
        # as many sessions answered it as it wants (binanno.routing), and never asked twice of one.
        answered = db.sessions_by_key(self.dataset, self.exclude_by) if self.dataset in db else {}
        self._router = Router(target, self._key, self.resend_after, db.keys(excluded, self.exclude_by), answered)
        stored = db.stats(self.dataset) if self.dataset in db else {"answers": {}}
        self.totals: Counter[str] = Counter(stored["answers"])
        self.session_counts: dict[str, Counter[str]] = {}

        self._cond = threading.Condition()
        self._progress_lock = threading.Lock()
        self._seen: set[str] = set()  # task keys (binanno.hashing): 32-bit hashes collide
        self._pending: list[Task] = []
        self._exhausted = False
        self.error: str | None = None
        self._serving = False  # until start() returns, a failure is raised by start(), not printed
        self.updates = 0
        self.last_update: Any = None
        self._accuracy: deque[bool] = deque(maxlen=ACCURACY_WINDOW)
        self._recorded: set[tuple[str, str]] = set()
        self._stopping = False
        self._busy = False
        self._learning = 0  # answers in the update that is running
        self._kept: set[str] = set()  # task keys of the batch kept at the last update, to be ranked again (_rank_kept)
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
                self._cond.wait_for(lambda: self._exhausted or self.error is not None or len(self._router.log) >= self.lookahead)
                # A bad record in the first look-ahead (a malformed line 7, say) stops the start.
                if self.error is not None:
                    raise UserError(self.error)
                self._serving = True
        else:
            with self._cond:
                self._serving = True
        # Only now: a start that fails on a bad input leaves no empty dataset behind.
        self.db.add_dataset(self.dataset, {"view_id": self.view_id})

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
        return not self._pending and not self._busy and not self._kept and not self._wants_more()

    def unlearnt(self) -> int:
        """Answers stored but not yet learnt from: waiting for the model, or in the update that runs."""
        with self._cond:
            return len(self._pending) + self._learning

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
        router = self._router
        return router.offset + len(router.log) - router.front() < self.lookahead

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or bool(self._pending) or bool(self._kept) or self._wants_more())
                # batch_size at a time: 40,000 answers at once would be one update of minutes.
                batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
                if not batch and self._stopping:
                    return
                self._busy = bool(batch)
                self._learning = len(batch)
            if batch:
                self._apply_update(batch)
                continue
            if self._kept:
                self._rank_kept()
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
            self._learning = 0
            self._cond.notify_all()
        self.progress()  # the progress component sees every update's loss, not only those a /status poll catches
        if unsent:
            self._iter.give_back(unsent)  # type: ignore[attr-defined]  # only this thread touches the stream

    def _rank_kept(self) -> None:
        """The batch kept at the last update goes back too, if no request took it meanwhile, once a
        batch picked by the new weights stands behind it: so at a person's pace each batch is picked
        by the latest model, not the one before it, as a pool-based learner's would be, and a request
        still finds a full batch at once. SMS spam, sklearn refits, 3 seeds: bench/README.md "Text
        classification, third version"."""
        with self._cond:
            router = self._router
            ahead = list(router.log)[router.front() - router.offset:]
            kept = [task for task in ahead if task_key(task) in self._kept]
            if kept and len(ahead) - len(kept) < self.batch_size and self._wants_more():
                kept = []  # pull first (the first pull after an update ranks the sorter's pool again)
            else:
                for task in kept:
                    router.log.remove(task)
                    self._seen.discard(task_key(task))
                if kept and self.error is None:
                    self._exhausted = False  # the sorter holds them again
                self._kept = set()
                self._cond.notify_all()
        if not self._kept:
            if kept:
                self._iter.give_back(kept)  # type: ignore[attr-defined]
            return
        self._pull()

    def _take_back_unsent(self) -> list[Task]:
        """After an update, the questions scored ahead but not sent yet go back to a sorter that can
        rank them again (binanno.components.sorters), so the next ones follow the new weights. One
        batch stays until the sorter has ranked again (``_rank_kept``), so a request that comes
        during the update or the rescoring is still answered at once. With ``feed_overlap`` every
        session has its own place in the log, so nothing is taken back."""
        if self.overlap or not hasattr(self._iter, "give_back") or self._pending:
            return []  # answers already wait: the annotator is ahead of the model, so serve what is scored
        router = self._router
        front = router.front() - router.offset
        ahead = list(router.log)[front:]
        if getattr(self._iter, "ranks", True):  # a stream in the source's order (InOrder) is not ranked again
            self._kept = {task_key(task) for task in ahead[: self.batch_size]}
        unsent = ahead[self.batch_size:]
        for _ in unsent:
            router.log.pop()
        for task in unsent:
            self._seen.discard(task_key(task))
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
        if not isinstance(task, dict) or (not isinstance(task.get("text"), str) and not has_content(task)):  # type: ignore[arg-type]
            keys = ", ".join(sorted(map(str, task))[:6]) if isinstance(task, dict) else type(task).__name__
            self._fail(f"A task from the stream has nothing to show (no text, image, audio, html, ...; it has: {keys}): "
                       "the recipe must add the text or the card's html")
            return
        task = settle_hashes(task)  # a label the recipe added after loading is a question of its own
        bad = bad_score(task)
        if bad:  # a task the page can't be sent (NaN from a model, say) must not fail a fetch for the others
            print(f"⚠ Skipped a question that isn't valid JSON ({bad}): {str(task.get('text'))[:60]!r}", file=sys.stderr)
            return
        key = task_key(task)
        with self._cond:
            if key not in self._seen and self._router.needed(task):
                self._seen.add(key)
                self._router.log.append(task)
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

    def _session(self, session_id: str) -> None:
        """Register a session on first sight."""
        if session_id not in self.session_counts:
            self.session_counts[session_id] = Counter()
        self._router.join(session_id)

    def _key(self, task: Task) -> str:
        return task_key(task) if self.exclude_by == "task" else input_key(task)

    def get_questions(self, session_id: str | None, wait: float = 30.0) -> list[Task]:
        """The next batch for a session: abandoned questions first, then new ones.

        Waits (up to ``wait`` seconds) only when nothing is scored yet.
        """
        session_id = self.session_name(session_id)
        now = time.time()
        router = self._router
        with self._cond:
            self._session(session_id)
            router.expire(now)
            tasks = router.take_returned(session_id, self.batch_size, now)
            deadline = now + wait
            while len(tasks) < self.batch_size:
                task = router.next_from_log(session_id, now)
                if task is False:
                    continue
                if task is not None:
                    tasks.append(task)  # type: ignore[arg-type]
                    continue
                if self._exhausted or tasks:
                    break
                self._cond.notify_all()
                if not self._cond.wait(timeout=max(0.0, deadline - time.time())):
                    break
            router.trim()
            self._cond.notify_all()
        return [{**t, "_session_id": session_id} for t in tasks]

    def ready_questions(self, session_id: str) -> list[Task] | None:
        """``get_questions`` without waiting; None when it would wait (a new session, nothing scored yet)."""
        with self._cond:
            if session_id not in self.session_counts:
                return None  # registering a session may read the database
        tasks = self.get_questions(session_id, wait=0)
        return tasks if tasks or self._exhausted else None

    def receive_answers(self, answers: list[Task], session_id: str | None) -> int:
        """Validate and commit answers, then queue them for the model; returns how many were stored.

        The database commit happens before this returns, so an acknowledged answer is never lost.
        """
        session_id, to_store, for_model = self._checked(answers, session_id)
        # In chunks of their own transactions, so that a huge batch doesn't hold the write lock
        # (and every other session's save) for seconds.
        stored = self.db.add_answers(self.dataset, to_store, session_id=session_id, chunk_size=STORE_CHUNK)
        self._record(session_id, for_model)
        return stored

    def answers_on_loop(self, answers: list[Any], session_id: str | None) -> bool:
        """Whether ``receive_answers_async`` may run on the event loop: a small batch from a known session, no recipe code.

        A recipe's ``validate_answer`` or ``before_db`` may block, checking thousands of answers takes
        long enough to stall every other session, and registering a new session may read the database:
        those go to a thread, ``receive_answers``.
        """
        if not 0 < len(answers) <= LOOP_ANSWERS or self.components.get("validate_answer") or self.components.get("before_db"):
            return False
        with self._cond:
            return self.session_name(session_id) in self.session_counts

    async def receive_answers_async(self, answers: list[Task], session_id: str | None) -> int:
        """``receive_answers`` on the event loop, awaiting the commit (see ``answers_on_loop``)."""
        session_id, to_store, for_model = self._checked(answers, session_id)
        stored = await self.db.add_answers_async(self.dataset, to_store, session_id=session_id, chunk_size=STORE_CHUNK)
        self._record(session_id, for_model)
        return stored

    def _checked(self, answers: list[Task], session_id: str | None) -> tuple[str, list[Task], list[Task]]:
        """The session, the answers to store and a copy for the model; AnswerError names every refused answer."""
        # Every answer is checked (the task format, then the recipe's validate_answer) before any is
        # stored, so one reply names all the refused ones and nothing of a refused batch is kept.
        refused = refused_answers(answers)
        bad = {r["index"] for r in refused}
        session_id = self.session_name(session_id)
        validate = self.components.get("validate_answer")
        clean: list[Task] = []
        for i, task in enumerate(answers):
            if i in bad:
                continue
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
            refused.sort(key=lambda r: r["index"])
            first = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise AnswerError(f"answer {first['index']} was refused: {first['error']}{more}", refused)
        before_db = self.components.get("before_db")
        if not before_db:  # each answer is serialised for the database before the model sees it
            return session_id, clean, clean
        for_model = copy.deepcopy(clean)  # what before_db changes is stored, not learnt from
        return session_id, before_db(clean), for_model

    def _record(self, session_id: str, for_model: list[Task]) -> None:
        """After the commit: the router, the counts and the model's queue learn of the answers."""
        with self._cond:
            self._session(session_id)
            for task in for_model:
                self._router.answer(session_id, task)
                key = task_key(task)
                if (session_id, key) in self._recorded:
                    continue  # a re-sent batch: stored again harmlessly, counted and learned from once
                self._recorded.add((session_id, key))
                self.totals[task["answer"]] += 1
                self.session_counts[session_id][task["answer"]] += 1
                score = (task.get("meta") or {}).get("score")
                if isinstance(score, (int, float)) and task["answer"] != "ignore":
                    self._accuracy.append((score >= 0.5) == (task["answer"] == "accept"))
                self._pending.append(task)
            self._cond.notify_all()

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
                "exhausted": self._exhausted and self._router.at_end(session_id),
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
            with self._progress_lock:  # the update thread and /status both ask; a component counts each update once
                value = progress(self, self.last_update)
        except Exception:
            traceback.print_exc()
            return None
        return None if value is None else max(0.0, min(1.0, float(value)))
