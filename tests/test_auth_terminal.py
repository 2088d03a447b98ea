"""Basic auth edges against the real server, and control characters kept off the terminal."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
from conftest import SAMPLE_SPANS
from helpers_core import assert_one_line_error, binanno

from binanno.components.db import Database
from binanno.terminal import printable

AUTH = {"BINANNO_BASIC_AUTH_USER": "ann", "BINANNO_BASIC_AUTH_PASS": "s3cret"}


def test_half_a_basic_auth_pair_is_a_one_line_error(tmp_path: Path) -> None:
    for env in ({"BINANNO_BASIC_AUTH_USER": "ann"}, {"BINANNO_BASIC_AUTH_PASS": "s3cret"}):
        proc = binanno("mark", "ds", str(SAMPLE_SPANS), "--db", str(tmp_path / "a.db"), "--port", "0", home=tmp_path, env=env)
        assert_one_line_error(proc, "set both for basic auth, or neither")


def test_basic_auth_header_edges(start_server: Any) -> None:
    server = start_server("mark", "ds", str(SAMPLE_SPANS), env=AUTH)
    url = server.url + "/project"
    token = base64.b64encode(b"ann:s3cret")
    for scheme in (b"Basic", b"basic", b"BASIC"):
        assert httpx.get(url, headers={"Authorization": scheme + b" " + token}, timeout=60).status_code == 200
    for header in (b"Basic \xff\xfe", b"\xff", b"Basic " + base64.b64encode(b"ann:\xffs3cret"), b"Bearer " + token,
                   b"Basic " + base64.b64encode(b"ann:wrong"), b"Basic not-base64!", b"Basic"):
        assert httpx.get(url, headers={"Authorization": header}, timeout=60).status_code == 401, header
    assert httpx.get(url, timeout=60).status_code == 401


def test_printable_escapes_control_characters() -> None:
    assert printable("ORG") == "ORG" and printable("Zoë 東京") == "Zoë 東京"
    assert printable("\x1b[2Jgone") == "\\x1b[2Jgone"
    assert printable("a\u202eb") == "a\\u202eb"
    assert printable("one\ntwo") == "one\\ntwo" and printable("one\ntwo", keep_newlines=True) == "one\ntwo"


def test_labels_and_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    db_path = tmp_path / "t.db"
    db = Database(db_path)
    db.add_answers("ds", [{"text": "Acme", "answer": "accept", "spans": [{"start": 0, "end": 4, "label": "ORG\x1b[31m"}]}],
                   session_id="ds-\x07bell")
    db.close()
    proc = binanno("stats", "ds", "--db", str(db_path), home=tmp_path)
    assert proc.returncode == 0 and "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "ORG\\x1b[31m" in proc.stdout and "ds-\\x07bell" in proc.stdout
    proc = binanno("stats", "no\x1b[2Jsuch", "--db", str(db_path), home=tmp_path)
    assert "\x1b" not in proc.stderr
    assert_one_line_error(proc, "Unknown dataset 'no\\x1b[2Jsuch'")
