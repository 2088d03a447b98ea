"""Shared fixtures: real files, real SQLite and PostgreSQL databases, the real server in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SPANS = ROOT / "binanno" / "data" / "news_spans.jsonl"
SAMPLE_TEXTS = ROOT / "binanno" / "data" / "news.jsonl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    return path


def run_cli(*args: str, home: Path, input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `binanno ARGS` as a user would, in its own process."""
    return subprocess.run([sys.executable, "-m", "binanno", *args], capture_output=True, text=True, input=input,
                          env={**os.environ, "BINANNO_HOME": str(home), **(env or {})}, timeout=300)


class Server:
    """`binanno RECIPE ...` running as a subprocess on a free port of 127.0.0.1."""

    def __init__(self, args: list[str], home: Path, db: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        cmd = [sys.executable, "-m", "binanno", *args, "--port", str(self.port), "--host", "127.0.0.1", "--db", str(db)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "BINANNO_HOME": str(home), "PYTHONUNBUFFERED": "1", **(env or {})})
        self.output = ""
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.output = self.proc.stdout.read() if self.proc.stdout else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.output}")
            try:
                httpx.get(self.url + "/project", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError("server did not start in time")

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = httpx.post(self.url + path, json=body, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def questions(self, session_id: str | None = None) -> list[dict[str, Any]]:
        return self.post("/get_session_questions", {"session_id": session_id})["tasks"]

    def answer(self, tasks: list[dict[str, Any]], answer: str = "accept", session_id: str | None = None) -> dict[str, Any]:
        return self.post("/give_answers", {"answers": [{**t, "answer": answer} for t in tasks], "session_id": session_id})

    def stop(self) -> str:
        """Ctrl+C, as a user would; returns everything the server printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc.stdout:
            self.output += self.proc.stdout.read()
        return self.output


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def start_server(tmp_path: Path, home: Path) -> Iterator[Any]:
    """Start real servers; each is stopped with Ctrl+C at the end of the test."""
    servers: list[Server] = []

    def start(*args: str, db: Path | None = None, env: dict[str, str] | None = None) -> Server:
        server = Server(list(args), home, db or tmp_path / "binanno.db", env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# A real headless Chromium (Debian's), one per test module.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Browser:
    """Playwright's browser, whose pages ignore the server's CSP unless asked: Playwright's
    ``wait_for_function`` evaluates its string with eval, which the CSP rightly forbids."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance

    def new_page(self, bypass_csp: bool = True, **kwargs: Any) -> Any:
        return self.instance.new_page(bypass_csp=bypass_csp, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.instance, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (CI installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield Browser(instance)
        instance.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster (tests/fixtures_pg.py), one per test run, removed at the end."""
    from fixtures_pg import Cluster, pg_bindir, run_as_user

    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL isn't installed (apt-get install postgresql): the PostgreSQL runs are skipped")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip('psycopg isn\'t installed (pip install -e ".[postgres]"): the PostgreSQL runs are skipped')
    prefix = run_as_user()
    if prefix is None:
        pytest.skip("PostgreSQL won't run as root and there is no 'postgres' or 'nobody' user: the PostgreSQL runs are skipped")
    cluster = Cluster(bindir, prefix)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's answers live, once per backend: a SQLite file in tmp_path, then a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "answers.db")
    return request.getfixturevalue("postgres").new_database()
