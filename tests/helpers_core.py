"""Helpers for the core tests: the real `binanno` command in a subprocess, and input files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def binanno(*args: str, home: Path, input: str | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m binanno ARGS` with BINANNO_HOME=home, as a user would."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BINANNO_")}
    environ.update({"BINANNO_HOME": str(home), "PYTHONIOENCODING": "utf8", **(env or {})})
    return subprocess.run([sys.executable, "-m", "binanno", *args], capture_output=True, text=True, input=input,
                          cwd=cwd or home, env=environ, timeout=120)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 1, no traceback, one line on stderr that contains every needle; returns the line."""
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    return path


def read_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def malformed_at_line_7(path: Path) -> Path:
    """Ten tasks, the seventh line broken JSON."""
    lines = [json.dumps({"text": f"Example number {i}"}) for i in range(1, 11)]
    lines[6] = '{"text": "broken'
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path
