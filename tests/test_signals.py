"""SIGTERM and repeated Ctrl+C against the real server: the pending updates are applied and the
model saved (on_exit), with a message while the last update runs, or a clear word of what wasn't."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

RECIPE = '''
import json
import time
from pathlib import Path

import binanno


@binanno.recipe("slow.learner", dataset=binanno.Arg(help="Dataset"), out=binanno.Arg(help="Where on_exit saves"))
def slow_learner(dataset, out):
    """Each update waits until OUT.release exists; on_exit saves what it learnt to OUT."""
    learnt = []

    def update(answers):
        Path(out + ".updating").touch()
        while not Path(out + ".release").exists():
            time.sleep(0.05)
        learnt.extend(a["text"] for a in answers)

    def on_exit(ctrl):
        Path(out).write_text(json.dumps(learnt))

    stream = ({"text": f"Example {i}"} for i in range(100))
    return {"dataset": dataset, "stream": stream, "update": update, "on_exit": on_exit, "view_id": "text"}
'''


class Output:
    """Everything the server prints, read on a thread so that the test can wait for a line."""

    def __init__(self, server: Any) -> None:
        self.text = ""
        self.thread = threading.Thread(target=self._read, args=(server.proc.stdout,), daemon=True)
        self.thread.start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            self.text += line

    def wait_for(self, needle: str, deadline: float = 120) -> str:
        end = time.monotonic() + deadline
        while needle not in self.text and time.monotonic() < end:
            time.sleep(0.05)
        assert needle in self.text, self.text
        return self.text


def wait_for_file(path: Path) -> None:
    end = time.monotonic() + 120
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert path.exists()


@pytest.fixture
def slow_server(start_server: Any, tmp_path: Path) -> tuple[Any, Path]:
    recipe = tmp_path / "slow.py"
    recipe.write_text(RECIPE, encoding="utf8")
    out = tmp_path / "model.json"
    server = start_server("slow.learner", "ds", str(out), "-F", str(recipe))
    return server, out


def answer_five(server: Any) -> None:
    tasks = server.questions()[:5]
    assert server.answer(tasks)["stored"] == 5


def test_sigterm_applies_pending_updates_and_saves(slow_server: tuple[Any, Path]) -> None:
    server, out = slow_server
    output = Output(server)
    answer_five(server)
    wait_for_file(Path(f"{out}.updating"))  # the update is running, and won't finish until released
    server.proc.send_signal(signal.SIGTERM)
    output.wait_for("Applying the last")
    Path(f"{out}.release").touch()
    assert server.proc.wait(timeout=120) == 0
    output.thread.join(timeout=60)
    assert json.loads(out.read_text()) == [f"Example {i}" for i in range(5)]
    assert "Saved answers to 'ds'" in output.text


def test_a_second_ctrl_c_during_the_last_update_waits_for_it(slow_server: tuple[Any, Path]) -> None:
    server, out = slow_server
    output = Output(server)
    answer_five(server)
    wait_for_file(Path(f"{out}.updating"))
    server.proc.send_signal(signal.SIGINT)
    output.wait_for("Applying the last")
    server.proc.send_signal(signal.SIGINT)
    output.wait_for("Still saving")
    Path(f"{out}.release").touch()
    assert server.proc.wait(timeout=120) == 0
    output.thread.join(timeout=60)
    assert json.loads(out.read_text()) == [f"Example {i}" for i in range(5)]


def test_a_third_ctrl_c_quits_and_says_what_was_not_saved(slow_server: tuple[Any, Path]) -> None:
    server, out = slow_server
    output = Output(server)
    answer_five(server)
    wait_for_file(Path(f"{out}.updating"))
    for needle in ("Applying the last", "Still saving"):
        server.proc.send_signal(signal.SIGINT)
        output.wait_for(needle)
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=120) != 0
    output.thread.join(timeout=60)
    assert "the model was not updated with the last 5 answers and not saved" in output.text
    assert "5 answers are saved in 'ds'" in output.text
    assert not out.exists()
