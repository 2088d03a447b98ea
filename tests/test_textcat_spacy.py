"""SpacyTextcat: real spaCy text classifiers, built blank or trained for a few steps in fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from fixtures_textcat import HAM, SPAM, answer, spam_answers, trained_textcat_dir

from binanno.errors import UserError
from binanno.hashing import set_hashes
from binanno.models.textcat_spacy import SpacyTextcat
from binanno.types import Model

PROBE = ["Claim your free cash prize now", "See you at home for dinner tonight"]


def test_blank_model_asks_one_question_per_text_and_label() -> None:
    model = SpacyTextcat.load("blank:en", ["SPAM", "HAM"])
    assert isinstance(model, Model) and model.name == "textcat_multilabel" and model.nlp.pipe_names == ["textcat_multilabel"]
    pairs = list(model([{"text": t, "meta": {"id": i}} for i, t in enumerate(SPAM[:3])]))
    assert [(q["text"], q["label"]) for _, q in pairs] == [(t, label) for t in SPAM[:3] for label in ("SPAM", "HAM")]
    for score, question in pairs:
        assert 0.0 <= score <= 1.0 and question["meta"]["score"] == score and "id" in question["meta"]
        expected = set_hashes({"text": question["text"], "label": question["label"]}, task_keys=("label",))
        assert question["_task_hash"] == expected["_task_hash"]


def test_multilabel_updates_move_the_answered_label_in_the_answers_direction() -> None:
    model = SpacyTextcat.load("blank:en", ["SPAM", "OTHER"], replay=0)
    before = model.predict(PROBE)
    for _ in range(5):
        loss = model.update(spam_answers())
        assert isinstance(loss, float) and loss > 0
    spam, ham = model.predict(PROBE)
    assert spam["SPAM"] > before[0]["SPAM"] and ham["SPAM"] < before[1]["SPAM"]
    assert spam["SPAM"] > 0.5 > ham["SPAM"]
    assert spam["OTHER"] == pytest.approx(before[0]["OTHER"]) and ham["OTHER"] == pytest.approx(before[1]["OTHER"])
    assert model.update([answer(SPAM[0], "SPAM", "ignore")]) is None


def test_exclusive_accept_lowers_the_others_and_a_reject_only_lowers_its_label() -> None:
    model = SpacyTextcat.load("blank:en", ["SPAM", "HAM", "PROMO"], exclusive=True, replay=0)
    assert model.name == "textcat"
    for _ in range(5):
        model.update([answer(t, "SPAM", "accept") for t in SPAM] + [answer(t, "HAM", "accept") for t in HAM])
    spam, ham = model.predict(PROBE)
    assert spam["SPAM"] > max(spam["HAM"], spam["PROMO"]) and ham["HAM"] > max(ham["SPAM"], ham["PROMO"])
    # PROMO is not the top label here; spaCy's own loss (absent labels = 0) would push it *up*.
    text = "Claim a free prize"
    start = model.predict([text])[0]
    for _ in range(3):
        model.update([answer(text, "PROMO", "reject")])
    after = model.predict([text])[0]
    assert after["PROMO"] < start["PROMO"] and after["SPAM"] + after["HAM"] > start["SPAM"] + start["HAM"]
    assert model.textcat.get_loss.__self__ is model.textcat  # the masked loss is only there during updates


def test_new_component_is_added_to_a_pipeline_without_one(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "plain")
    model = SpacyTextcat.load(str(tmp_path / "plain"), ["SPAM", "HAM"], exclusive=True)
    assert model.nlp.pipe_names == ["sentencizer", "textcat"]
    assert all(abs(sum(p.values()) - 1.0) < 1e-5 for p in model.predict(PROBE))


def test_trained_pipeline_scores_and_adds_a_label_to_a_bag_of_words_textcat() -> None:
    path = trained_textcat_dir("bow")
    model = SpacyTextcat.load(str(path), ["SPAM"])
    assert model.predict(PROBE)[0]["SPAM"] > 0.5 > model.predict(PROBE)[1]["SPAM"]
    grown = SpacyTextcat.load(str(path), ["SPAM", "NEW"])
    assert grown.textcat.labels == ("SPAM", "HAM", "NEW")
    before = grown.predict(PROBE)
    assert [p["SPAM"] for p in before] == pytest.approx([p["SPAM"] for p in model.predict(PROBE)])
    assert {round(p["NEW"], 6) for p in before} == {0.5}  # unknown, not impossible
    for _ in range(3):
        grown.update([answer(PROBE[0], "NEW", "accept"), answer(PROBE[1], "NEW", "reject")])
    after = grown.predict(PROBE)
    assert after[0]["NEW"] > 0.5 > after[1]["NEW"]


def test_a_label_the_textcat_cannot_add_is_a_one_line_error() -> None:
    path = trained_textcat_dir("ensemble")
    assert SpacyTextcat.load(str(path), ["SPAM", "HAM"]).predict(PROBE)[0]["SPAM"] > 0.5
    with pytest.raises(UserError) as error:
        SpacyTextcat.load(str(path), ["SPAM", "NEW"])
    message = str(error.value)
    assert "can't add label(s) NEW" in message and "it has: SPAM, HAM" in message and "\n" not in message


def test_save_and_reload_round_trip(tmp_path: Path) -> None:
    model = SpacyTextcat.load(str(trained_textcat_dir("bow", exclusive=True)), ["SPAM", "HAM"], exclusive=True)
    model.update([answer(PROBE[0], "SPAM", "accept")])
    model.to_disk(tmp_path / "saved")
    nlp = spacy.load(tmp_path / "saved")
    assert nlp.pipe_names == ["textcat"]
    assert nlp(PROBE[0]).cats["SPAM"] == pytest.approx(model.predict(PROBE[:1])[0]["SPAM"])
    loaded = SpacyTextcat.load(str(tmp_path / "saved"), ["SPAM", "HAM"], exclusive=True)
    flat = [[p[label] for label in ("SPAM", "HAM")] for p in model.predict(SPAM + HAM)]
    assert [[p[label] for label in ("SPAM", "HAM")] for p in loaded.predict(SPAM + HAM)] == flat


@pytest.mark.parametrize("spec, labels, kwargs, message", [
    ("nope_pipeline", ["SPAM"], {}, "Can't find spaCy pipeline 'nope_pipeline'"),
    ("blank:zz", ["SPAM"], {}, "Unknown language in 'blank:zz'"),
    ("blank:en", [], {}, "No labels given"),
    ("blank:en", ["SPAM"], {"exclusive": True}, "--exclusive needs at least two labels"),
    ("blank:en", ["SPAM"], {"beam_width": 4}, "unknown SpacyTextcat setting(s) beam_width"),
    ("blank:en", ["SPAM"], {"architecture": "cnn"}, "architecture must be 'bow' or 'ensemble'"),
])
def test_bad_inputs_are_one_line_user_errors(spec: str, labels: list[str], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UserError) as error:
        SpacyTextcat.load(spec, labels, **kwargs)  # type: ignore[arg-type]
    assert message in str(error.value) and "\n" not in str(error.value)
