"""A running server outlives a PostgreSQL restart: a save during the outage is a 503, the next one after it is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from conftest import write_jsonl

from binanno.components.db import Database


@pytest.fixture
def cluster() -> Iterator[Any]:
    """A cluster of its own: restarting the shared one would cut other tests' connections."""
    pytest.importorskip("psycopg")
    from fixtures_pg import Cluster, pg_bindir, run_as_user

    bindir, prefix = pg_bindir(), run_as_user()
    if bindir is None or prefix is None:
        pytest.skip("PostgreSQL isn't installed (apt-get install postgresql), or can't run here")
    instance = Cluster(bindir, prefix)
    yield instance
    instance.stop()


def save(server: Any, tasks: list[dict[str, Any]]) -> httpx.Response:
    body = {"answers": [{**t, "answer": "accept"} for t in tasks], "session_id": "ds-a"}
    return httpx.post(server.url + "/give_answers", json=body, timeout=60)


def test_a_server_survives_a_postgresql_restart(start_server: Any, cluster: Any, tmp_path: Path) -> None:
    url = cluster.new_database()
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": f"Text {i}"} for i in range(40)])
    server = start_server("mark", "ds", str(source), db=url)  # type: ignore[arg-type]
    first, second, third, fourth = (server.questions("ds-a") for _ in range(4))
    assert save(server, first).status_code == 200

    cluster.pg_ctl("restart")  # every connection the server held is cut
    assert save(server, second).json()["stored"] == 10  # reconnected on this request

    cluster.pg_ctl("stop")
    down = save(server, third)
    assert down.status_code == 503 and "the database isn't reachable" in down.json()["error"]
    assert down.json()["refused"] == []
    cluster.pg_ctl("start")
    assert save(server, third).status_code == 200  # the page sends them again
    assert save(server, fourth).status_code == 200

    output = server.stop()
    assert "Traceback" not in output
    db = Database(url)
    assert sorted(t["text"] for t in db.get_answers("ds")) == sorted(t["text"] for t in first + second + third + fourth)
    db.close()
