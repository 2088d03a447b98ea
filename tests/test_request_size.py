"""Request size: a body over max_request_size is a 413 that stores nothing; large batches are
committed in chunks, and the model learns batch_size answers at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
from conftest import SAMPLE_SPANS

from binanno.components.db import Database
from binanno.config import resolve
from binanno.controller import Controller

LIMIT = 20_000


def answers(n: int, prefix: str = "text") -> list[dict[str, Any]]:
    return [{"text": f"{prefix} {i}", "answer": "accept"} for i in range(n)]


def test_a_body_over_the_limit_is_a_413_and_stores_nothing(start_server: Any) -> None:
    server = start_server("mark", "ds", str(SAMPLE_SPANS), env={"BINANNO_MAX_REQUEST_SIZE": str(LIMIT)})
    big = json.dumps({"answers": answers(1000), "session_id": None})
    assert len(big) > LIMIT
    reply = httpx.post(server.url + "/give_answers", content=big, timeout=60)
    assert reply.status_code == 413 and "max_request_size" in reply.json()["error"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000].encode()

    reply = httpx.post(server.url + "/give_answers", content=chunked(), timeout=60)
    assert reply.status_code == 413
    reply = httpx.post(server.url + "/get_session_questions", content=b'{"session_id": "' + b"x" * LIMIT + b'"}', timeout=60)
    assert reply.status_code == 413
    small = httpx.post(server.url + "/give_answers", json={"answers": answers(3), "session_id": None}, timeout=60)
    assert small.status_code == 200 and small.json()["stored"] == 3
    assert small.json()["status"]["answered"] == 3


def test_a_large_batch_is_stored_whole_in_chunks(tmp_path: Path) -> None:
    db = Database(tmp_path / "chunks.db")
    assert db.add_answers("ds", answers(1234), chunk_size=500) == 1234
    assert db.count("ds") == 1234
    # A retried chunked batch still replaces instead of duplicating.
    assert db.add_answers("ds", answers(1234), chunk_size=500) == 1234 and db.count("ds") == 1234
    db.close()


def test_updates_take_batch_size_answers_at_a_time(tmp_path: Path) -> None:
    db = Database(tmp_path / "updates.db")
    sizes: list[int] = []
    stream = [{"text": f"text {i}"} for i in range(30)]
    ctrl = Controller({"dataset": "ds", "stream": stream, "update": lambda batch: sizes.append(len(batch))}, db,
                      resolve({"batch_size": 10}, environ={}, cwd=tmp_path))
    ctrl.start()
    tasks = ctrl.get_questions(None) + ctrl.get_questions(None) + ctrl.get_questions(None)
    ctrl.receive_answers([{**t, "answer": "accept"} for t in tasks[:25]], None)
    assert ctrl.wait_idle()
    ctrl.close()
    assert sizes == [10, 10, 5] and db.count("ds") == 25
    db.close()
