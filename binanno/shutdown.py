"""Stopping the server without losing the model: SIGTERM as Ctrl+C, and patience with a second one.

uvicorn re-raises the signal that stopped it once it has shut down; with SIGTERM's default
handler that killed the process before the pending updates and ``on_exit`` (which saves
``--output``) could run.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from types import FrameType
from typing import Any, Iterator

from .errors import UserError
from .terminal import printable

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While inside, SIGTERM stops the server the way Ctrl+C does, so the cleanup after it runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _as_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Quit(Exception):
    """A third Ctrl+C (or SIGTERM) while the last update runs."""


def close_patiently(controller: Any) -> None:
    """Close the controller (the last updates, then ``on_exit``), saying so while it runs.

    A second Ctrl+C or SIGTERM says to wait; a third quits, with a one-line error that says
    what was not saved (the answers always are: they were committed when acknowledged).
    """
    unlearnt = controller.unlearnt()
    if unlearnt:
        print(f"⏳ Applying the last {unlearnt} answers to the model, then saving it (Ctrl+C twice more quits without)",
              file=sys.stderr, flush=True)
    if threading.current_thread() is not threading.main_thread():
        controller.close()
        return
    signals = 0

    def patient(signum: int, frame: FrameType | None) -> None:
        nonlocal signals
        signals += 1
        if signals >= 2:
            raise _Quit
        print(f"⏳ Still saving: the model is learning from the last {controller.unlearnt()} answers, then it is saved. "
              "Ctrl+C once more quits without saving the model", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, patient) for sig in SIGNALS}
    try:
        controller.close()
    except _Quit:
        answered = controller.status()["answered"]
        raise UserError(f"Quit before the model was saved: {answered} answers are saved in '{printable(controller.dataset)}', "
                        f"but the model was not updated with the last {controller.unlearnt()} answers and not saved "
                        "(on_exit did not run)") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
