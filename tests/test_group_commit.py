"""The group-commit writer: batches saved at once share one transaction, each acknowledged after its commit."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from binanno.components.db import Database
from binanno.components.group_commit import Batch, GroupWriter
from binanno.errors import UserError


def submit_in_threads(writer: GroupWriter, names: list[str], committed: set[str] | None = None,
                      ) -> tuple[list[threading.Thread], dict[str, Any]]:
    """Each name submitted from its own thread; what each submit returned or raised, by name
    ("early": it returned before its name was in ``committed``)."""
    outcome: dict[str, Any] = {}

    def submit(name: str) -> None:
        try:
            writer.submit(name, [(name,)])
            outcome[name] = "early" if committed is not None and name not in committed else "ok"
        except Exception as e:
            outcome[name] = e

    threads = [threading.Thread(target=submit, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    return threads, outcome


def queued_behind_first(writer: GroupWriter, release: threading.Event, names: list[str],
                        committed: set[str] | None = None) -> dict[str, Any]:
    """Submit "first", then ``names`` while the writer is held in the first write (until ``release``
    is set here): what each submit returned or raised, once all are done."""
    first, outcome = submit_in_threads(writer, ["first"], committed)
    while writer._queue or writer._thread is None:  # the first write has begun
        time.sleep(0.01)
    rest, more = submit_in_threads(writer, names, committed)
    while len(writer._queue) < len(names):
        time.sleep(0.01)
    assert not outcome and not more  # all wait for their commit
    release.set()
    for thread in first + rest:
        thread.join(5)
    return {**outcome, **more}


def test_batches_waiting_share_one_write_and_return_after_it() -> None:
    groups: list[list[str]] = []
    committed: set[str] = set()
    release = threading.Event()

    def write(batches: list[Batch]) -> None:
        groups.append([b.dataset for b in batches])
        release.wait(5)
        time.sleep(0.05)  # a submit that returned before this commit would record "early"
        committed.update(b.dataset for b in batches)

    writer = GroupWriter(write)
    outcome = queued_behind_first(writer, release, ["b", "c", "d"], committed)
    assert groups == [["first"], ["b", "c", "d"]]
    assert outcome == {"first": "ok", "b": "ok", "c": "ok", "d": "ok"}
    writer.stop()
    assert writer._thread is None


def test_a_group_is_capped_by_rows() -> None:
    groups: list[int] = []
    release = threading.Event()

    def write(batches: list[Batch]) -> None:
        groups.append(sum(len(b.rows) for b in batches))
        release.wait(5)

    writer = GroupWriter(write, max_rows=2)
    queued_behind_first(writer, release, ["b", "c", "d"])
    assert groups == [1, 2, 1]
    writer.stop()


def test_a_failing_group_is_written_again_one_batch_at_a_time() -> None:
    written: list[str] = []
    release = threading.Event()

    def write(batches: list[Batch]) -> None:
        release.wait(5)
        if any(b.dataset == "bad" for b in batches):
            raise ValueError("refused by the database")
        written.extend(b.dataset for b in batches)

    writer = GroupWriter(write)
    outcome = queued_behind_first(writer, release, ["a", "bad", "b"])
    assert sorted(written) == ["a", "b", "first"]
    assert outcome["first"] == outcome["a"] == outcome["b"] == "ok"
    assert isinstance(outcome["bad"], ValueError) and "refused by the database" in str(outcome["bad"])
    writer.stop()


def test_a_failing_commit_fails_every_request_waiting_on_it() -> None:
    def write(batches: list[Batch]) -> None:
        time.sleep(0.05)
        raise OSError("disk full")

    writer = GroupWriter(write)
    threads, outcome = submit_in_threads(writer, ["a", "b", "c"])
    for thread in threads:
        thread.join(5)
    assert set(outcome) == {"a", "b", "c"}
    assert all(isinstance(e, OSError) and str(e) == "disk full" for e in outcome.values())
    assert outcome["a"] is not outcome["b"]  # each request raises its own copy
    writer.stop()


def test_the_thread_ends_when_idle() -> None:
    exits: list[str] = []
    writer = GroupWriter(lambda batches: None, on_exit=lambda: exits.append(threading.current_thread().name), idle=0.05)
    writer.submit("a", [(1,)])
    time.sleep(0.3)
    assert writer._thread is None and exits == ["binanno-writer"]
    writer.submit("b", [(2,)])  # a new thread takes the next batch
    writer.stop()
    assert exits == ["binanno-writer", "binanno-writer"]


def test_fifty_threads_saving_at_once_are_all_stored_once(db_target: str) -> None:
    db = Database(db_target)
    transactions: list[int] = []
    upsert = db._upsert_rows

    def counted(batches: list[Batch]) -> None:
        upsert(batches)
        transactions.append(len(batches))

    db._upsert_rows = counted  # type: ignore[method-assign]
    start = threading.Barrier(50)
    stored: dict[int, int] = {}

    def save(n: int) -> None:
        batch = [{"text": f"{n}-{i}", "answer": "accept"} for i in range(10)]
        start.wait()
        stored[n] = db.add_answers("ds", batch, session_id=f"s{n}")
        stored[n] += db.add_answers("ds", batch, session_id=f"s{n}")  # a re-sent batch

    threads = [threading.Thread(target=save, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert stored == {n: 20 for n in range(50)}
        assert db.count("ds") == 500
        assert sum(transactions) == 100 and len(transactions) < 100  # some saves shared a transaction
        # Seen by another connection as soon as the saves returned: committed.
        other = Database(db_target)
        assert other.count("ds") == 500
        other.close()
    finally:
        db.close()


def test_a_batch_the_database_refuses_is_stored_not_at_all_and_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "answers.db"
    db = Database(path)
    db.add_dataset("ds")
    with sqlite3.connect(path) as con:
        con.execute("CREATE TRIGGER refuse BEFORE INSERT ON example WHEN NEW.session_id = 'bad' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END")
    release = threading.Event()
    upsert = db._upsert_rows

    def held(batches: list[Batch]) -> None:
        release.wait(5)
        upsert(batches)

    db._upsert_rows = held  # type: ignore[method-assign]
    outcome: dict[str, Any] = {}

    def save(session: str) -> None:
        try:
            db.add_answers("ds", [{"text": f"{session} {i}", "answer": "accept"} for i in range(3)], session_id=session)
            outcome[session] = "ok"
        except Exception as e:
            outcome[session] = e

    threads = [threading.Thread(target=save, args=(name,)) for name in ("first", "a", "bad", "b")]
    threads[0].start()
    time.sleep(0.1)
    for thread in threads[1:]:
        thread.start()
    while len(db._writer._queue) < 3:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    try:
        assert outcome["first"] == outcome["a"] == outcome["b"] == "ok"
        assert "refused by a trigger" in str(outcome["bad"])
        assert sorted({t["_session_id"] for t in db.get_answers("ds")}) == ["a", "b", "first"]
        assert db.count("ds") == 9
    finally:
        db.close()


@pytest.mark.parametrize("chunk_size", [None, 4])
def test_close_ends_the_writer_and_the_store_still_works(tmp_path: Path, chunk_size: int | None) -> None:
    db = Database(tmp_path / "answers.db")
    db.add_answers("ds", [{"text": str(i), "answer": "accept"} for i in range(10)], chunk_size=chunk_size)
    db.close()
    assert db._writer._thread is None
    db.add_answers("ds", [{"text": "after", "answer": "accept"}])
    assert db.count("ds") == 11
    db.close()


def test_an_error_that_cannot_be_copied_still_reaches_the_request() -> None:
    class Odd(Exception):
        def __init__(self, code: int, detail: str) -> None:
            super().__init__(f"{code}: {detail}")

    def write(batches: list[Batch]) -> None:
        raise Odd(7, "refused")

    writer = GroupWriter(write)
    with pytest.raises(Odd, match="7: refused"):
        writer.submit("a", [(1,)])
    writer.stop()


def test_async_saves_wait_on_the_loop_and_return_after_their_commit() -> None:
    """``submit_async``: no thread per save; the loop keeps running while saves wait for the commit."""
    committed: set[str] = set()
    release = threading.Event()

    def write(batches: list[Batch]) -> None:
        release.wait(5)
        time.sleep(0.05)  # a save that returned before this commit would record "early"
        committed.update(b.dataset for b in batches)

    writer = GroupWriter(write)
    outcome: dict[str, str] = {}
    ticks: list[float] = []

    async def save(name: str) -> None:
        await writer.submit_async(name, [(name,)])
        outcome[name] = "ok" if name in committed else "early"

    async def ticker() -> None:  # the loop serves other requests meanwhile
        while len(outcome) < 20:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main() -> None:
        saves = [asyncio.ensure_future(save(f"s{i}")) for i in range(20)]
        tick = asyncio.ensure_future(ticker())
        await asyncio.sleep(0.2)
        assert not outcome and len(ticks) >= 5  # all wait, and the loop went on
        threads = threading.active_count()
        release.set()
        await asyncio.gather(*saves, tick)
        assert threading.active_count() <= threads  # no thread was started to wait for a commit

    asyncio.run(main())
    assert outcome == {f"s{i}": "ok" for i in range(20)}
    writer.stop()


def test_an_async_save_raises_what_its_commit_raised() -> None:
    def write(batches: list[Batch]) -> None:
        raise OSError("disk full")

    writer = GroupWriter(write)

    async def main() -> list[Any]:
        return await asyncio.gather(*(writer.submit_async(n, [(1,)]) for n in "ab"), return_exceptions=True)

    errors = asyncio.run(main())
    assert all(isinstance(e, OSError) and str(e) == "disk full" for e in errors)
    assert errors[0] is not errors[1]
    writer.stop()


def test_fifty_async_saves_at_once_are_all_stored_once(db_target: str) -> None:
    db = Database(db_target)

    async def save(n: int) -> int:
        batch = [{"text": f"{n}-{i}", "answer": "accept"} for i in range(10)]
        stored = await db.add_answers_async("ds", batch, session_id=f"s{n}")
        return stored + await db.add_answers_async("ds", batch, session_id=f"s{n}")  # a re-sent batch

    async def main() -> list[int]:
        return await asyncio.gather(*(save(n) for n in range(50)))

    try:
        assert asyncio.run(main()) == [20] * 50
        assert db.count("ds") == 500
        other = Database(db_target)  # committed: another connection sees them at once
        assert other.count("ds") == 500
        other.close()
        with pytest.raises(UserError, match="answer must be one of"):
            asyncio.run(db.add_answers_async("bad", [{"text": "x", "answer": "maybe"}]))
        assert "bad" not in db.datasets()
    finally:
        db.close()


def test_a_dataset_dropped_by_another_process_is_made_again_by_the_next_save(db_target: str) -> None:
    # The writer remembers dataset ids (a query less per group commit): a drop elsewhere must not
    # send later answers to a dataset that is gone.
    server, other = Database(db_target), Database(db_target)
    try:
        server.add_answers("ds", [{"text": "before", "answer": "accept"}])
        assert other.drop("ds") == 1
        server.add_answers("ds", [{"text": "after", "answer": "accept"}])
        assert [t["text"] for t in other.get_answers("ds")] == ["after"]
        asyncio.run(server.add_answers_async("ds", [{"text": "later", "answer": "reject"}]))
        assert other.count("ds") == 2
    finally:
        server.close()
        other.close()
