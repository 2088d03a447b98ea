"""The helpers a recipe imports from ``prodigy.util``, at the same path: ``binanno.util``.

Logging (``log``, ``msg``), the CLI converters (``split_string``, ``get_labels``), the hashes
(``set_hashes``, ``INPUT_HASH_ATTR``, ``TASK_HASH_ATTR``) and small conversions. Each name that
lives elsewhere (``set_hashes``, ``combine_models``) is that one object, imported here.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from srsly import read_jsonl, write_jsonl  # Prodigy's util re-exports srsly's JSONL helpers too
from wasabi import Printer

from .components.combine import combine_models
from .errors import UserError
from .hashing import set_hashes

INPUT_HASH_ATTR = "_input_hash"
TASK_HASH_ATTR = "_task_hash"
SESSION_ID_ATTR = "_session_id"
VIEW_ID_ATTR = "_view_id"

#: Prodigy's printer for recipes' terminal output: ``msg.good``, ``msg.info``, ``msg.warn``, ``msg.fail``,
#: ``msg.text``, ``msg.divider`` (wasabi's, which spaCy ships).
msg = Printer()

_START = time.time()


def log(message: str, details: Any = None) -> None:
    """Print ``message`` to stderr when BINANNO_LOGGING (or Prodigy's PRODIGY_LOGGING) is set.

    ``basic`` prints the message; ``verbose`` also the ``details``, as Prodigy does.
    """
    level = (os.environ.get("BINANNO_LOGGING") or os.environ.get("PRODIGY_LOGGING") or "").strip().lower()
    if not level:
        return
    print(f"{time.strftime('%H:%M:%S')}: {message} (+{time.time() - _START:.1f}s)", file=sys.stderr, flush=True)
    if level == "verbose" and details is not None:
        print(f"  {details}", file=sys.stderr, flush=True)


def split_string(value: str) -> list[str]:
    """'A, B,C' -> ['A', 'B', 'C'] (a converter for comma-separated CLI options)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def get_labels(labels_data: str) -> list[str]:
    """The converter Prodigy uses for ``--label``: a comma-separated list, or a text file with one label a line."""
    path = Path(labels_data)
    # A label list such as "PERSON,ORG" is never a file; only a name that exists is read.
    if "," not in labels_data and path.is_file():
        with path.open(encoding="utf8") as f:
            labels = [line.strip() for line in f if line.strip()]
    else:
        labels = split_string(labels_data)
    return list(dict.fromkeys(labels))  # each label once, in the given order


def b64_uri_to_bytes(data_uri: str) -> bytes:
    """The bytes of a base64 data URI (``data:image/png;base64,...``), as an image task holds them."""
    head, sep, data = data_uri.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise UserError(f"Not a base64 data URI: '{data_uri[:40]}': expected data:MIME;base64,DATA")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"Invalid base64 data in '{data_uri[:40]}...': re-encode the file") from None


def get_timestamp_session_id() -> str:
    """A session ID from the current time, as Prodigy names unnamed sessions (``2026-12-02_04-30-00``)."""
    return datetime.now().strftime("%Y-%m-%d_%H-%M-%S")


__all__ = ["INPUT_HASH_ATTR", "SESSION_ID_ATTR", "TASK_HASH_ATTR", "VIEW_ID_ATTR", "b64_uri_to_bytes", "combine_models",
           "get_labels", "get_timestamp_session_id", "log", "msg", "read_jsonl", "set_hashes", "split_string",
           "write_jsonl"]
