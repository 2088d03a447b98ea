"""`kill -9` at random moments while an annotator saves: no acknowledged answer is lost, none is stored
twice, on SQLite and on PostgreSQL. BINANNO_KILL_TRIALS=100 runs the trials behind the README's figure."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from conftest import write_jsonl

from binanno.components.db import Database

TRIALS = int(os.environ.get("BINANNO_KILL_TRIALS", "3"))


def save_until_killed(server: Any, session: str, acknowledged: list[str], stop: threading.Event) -> None:
    """Fetch and answer batches as fast as the server allows; record each batch the server acknowledged."""
    while not stop.is_set():
        try:
            tasks = server.questions(session)
            if not tasks:
                return
            reply = server.answer(tasks, session_id=session)
        except (httpx.HTTPError, ValueError):
            return  # the server is gone: what it hadn't acknowledged may be lost
        assert reply["stored"] == len(tasks)
        acknowledged.extend(t["text"] for t in tasks)


def test_kill_9_loses_no_acknowledged_answer(tmp_path: Path, start_server: Any, db_target: str) -> None:
    source = write_jsonl(tmp_path / "texts.jsonl", [{"text": f"Text number {i} to be saved."} for i in range(20_000)])
    rng = random.Random(14)
    total = 0
    for trial in range(TRIALS):
        dataset = f"trial{trial}"
        server = start_server("mark", dataset, str(source), "--batch-size", "5", db=db_target)
        acknowledged: list[str] = []
        stop = threading.Event()
        writer = threading.Thread(target=save_until_killed, args=(server, "alex", acknowledged, stop))
        writer.start()
        while not acknowledged and writer.is_alive():
            time.sleep(0.05)  # the first save: from here on, the writer is saving in a loop
        # The moment of the kill is random (mid-request, mid-commit or between them); nothing is timed.
        time.sleep(rng.uniform(0.2, 2.0))
        server.proc.kill()
        server.proc.wait()
        stop.set()
        writer.join()
        db = Database(db_target)
        stored = [t["text"] for t in db.get_answers(dataset)] if dataset in db else []
        db.close()
        assert set(acknowledged) <= set(stored), f"trial {trial}: acknowledged answers lost"
        assert len(stored) == len(set(stored)), f"trial {trial}: an answer stored twice"
        total += len(acknowledged)
    assert total > 0  # the writer did save before the kills
    backend = "postgresql" if "://" in db_target else "sqlite"
    print(f"\n{TRIALS} kill -9 trials on {backend}: 0 of {total} acknowledged answers lost")
