"""A throwaway PostgreSQL cluster for the storage tests: initdb + pg_ctl on a free port in a temp folder.

PostgreSQL refuses to run as root, and the tests run as root here and in CI, so the cluster runs
as the ``postgres`` system user (Debian's package creates it), else ``nobody``. Each test gets a
database of its own in the one cluster (``Cluster.new_database``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl are: ``pg_config --bindir``, else Debian's /usr/lib/postgresql/*/bin."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def run_as_user() -> list[str] | None:
    """The prefix that runs a command as a user PostgreSQL accepts (empty when we aren't root; None
    when we are root and there is no such user)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"]
        return ["su", name, "-s", "/bin/sh", "-c"]  # joined into one string by _run
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A running PostgreSQL cluster in a temp folder, owned by a non-root user; ``stop`` removes it."""

    def __init__(self, bindir: Path, prefix: list[str]) -> None:
        self.bindir = bindir
        self.prefix = prefix
        self.folder = Path(tempfile.mkdtemp(prefix="binanno-pg-"))
        os.chmod(self.folder, 0o755)
        if self.prefix:
            user = self.prefix[2] if self.prefix[0] == "runuser" else self.prefix[1]
            entry = pwd.getpwnam(user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self.data = self.folder / "data"
        self.port = free_port()
        self._names = itertools.count()
        self._run("initdb", "-D", str(self.data), "-U", "binanno", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o", options, "start")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.prefix[:1] == ["su"]:
            command = [*self.prefix, " ".join(f"'{a}'" for a in command)]
        else:
            command = [*self.prefix, *command]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=self.folder, timeout=120)
        if proc.returncode != 0:
            log = (self.folder / "log").read_text() if (self.folder / "log").is_file() else ""
            raise RuntimeError(f"{program} failed: {proc.stdout}{proc.stderr}{log}")

    def pg_ctl(self, action: str) -> None:
        """``pg_ctl restart`` (fast: open connections are cut, as in a real restart), ``stop`` or ``start``,
        with the options the cluster was started with."""
        if action == "start":
            options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o", options, "start")
        else:  # the log file again: a restarted server would write to (and hold open) our pipe
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-m", "fast", "-w", action)

    def url(self, name: str) -> str:
        return f"postgresql://binanno@127.0.0.1:{self.port}/{name}"

    def new_database(self) -> str:
        """The URL of a new, empty database in this cluster."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
