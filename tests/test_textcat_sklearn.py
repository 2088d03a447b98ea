"""SklearnTextcat: hashed n-grams and online logistic regression, with real scikit-learn."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_textcat import HAM, SPAM, answer, spam_answers

from binanno.errors import UserError
from binanno.hashing import set_hashes
from binanno.models.textcat_sklearn import SklearnTextcat
from binanno.types import Model, Task


def taught(labels: list[str] | None = None, exclusive: bool = False, rounds: int = 3, **settings: object) -> SklearnTextcat:
    model = SklearnTextcat.load("sklearn", labels or ["SPAM"], exclusive=exclusive, **settings)  # type: ignore[arg-type]
    for _ in range(rounds):
        model.update(spam_answers())
    return model


def test_new_model_asks_one_question_per_text_and_label_at_exactly_one_half() -> None:
    model = SklearnTextcat.load("sklearn", ["SPAM", "HAM"])
    assert isinstance(model, Model) and model.labels == ["SPAM", "HAM"]
    tasks: list[Task] = [{"text": t, "meta": {"source": "x"}} for t in SPAM[:2] + HAM[:2]]
    pairs = list(model(tasks))
    assert len(pairs) == 8
    assert [(q["text"], q["label"]) for _, q in pairs] == [(t["text"], label) for t in tasks for label in ("SPAM", "HAM")]
    for score, question in pairs:
        assert score == 0.5 and question["meta"] == {"source": "x", "score": 0.5}
        expected = set_hashes({"text": question["text"], "label": question["label"]}, task_keys=("label",))
        assert question["_task_hash"] == expected["_task_hash"] and question["_input_hash"] == expected["_input_hash"]
    assert tasks[0]["meta"] == {"source": "x"}  # questions are copies
    assert len({q["_task_hash"] for _, q in pairs}) == 8


def test_accepts_raise_and_rejects_lower_the_label_and_leave_others_alone() -> None:
    model = SklearnTextcat.load("sklearn", ["SPAM", "OTHER"])
    probe = ["Claim your free cash prize now", "See you at home for dinner tonight"]
    for _ in range(3):
        assert isinstance(model.update(spam_answers()), float)
    spam, ham = model.predict(probe)
    assert spam["SPAM"] > 0.6 and ham["SPAM"] < 0.4
    assert spam["OTHER"] == ham["OTHER"] == 0.5  # never answered: still untrained
    scores = {q["text"]: s for s, q in model([{"text": t} for t in probe]) if q["label"] == "SPAM"}
    assert scores == {probe[0]: spam["SPAM"], probe[1]: ham["SPAM"]}


def test_one_text_moves_in_the_direction_of_its_answers() -> None:
    model = taught()
    text = "Reply now to claim your free lunch"
    start = model.predict([text])[0]["SPAM"]
    for _ in range(3):
        model.update([answer(text, "SPAM", "reject")])
    lower = model.predict([text])[0]["SPAM"]
    assert lower < start
    for _ in range(6):
        model.update([answer(text, "SPAM", "accept")])
    assert model.predict([text])[0]["SPAM"] > lower


def test_ignored_answers_and_unknown_labels_teach_nothing() -> None:
    model = SklearnTextcat.load("sklearn", ["SPAM"])
    assert model.update([answer(SPAM[0], "SPAM", "ignore"), answer(SPAM[1], "NOPE", "accept")]) is None
    assert model.predict([SPAM[0]]) == [{"SPAM": 0.5}]


def test_exclusive_accept_is_a_reject_of_the_other_labels() -> None:
    model = SklearnTextcat.load("sklearn", ["SPAM", "HAM", "PROMO"], exclusive=True)
    for _ in range(3):
        model.update([answer(t, "SPAM", "accept") for t in SPAM] + [answer(t, "HAM", "accept") for t in HAM])
    spam, ham = model.predict(["Claim your free cash prize now", "See you at home for dinner tonight"])
    assert spam["SPAM"] > 0.5 > spam["HAM"] and ham["HAM"] > 0.5 > ham["SPAM"]
    assert spam["PROMO"] < 0.5 and ham["PROMO"] < 0.5  # only ever the other label of an accept


def test_exclusive_reject_of_one_of_two_labels_is_an_accept_of_the_other() -> None:
    model = SklearnTextcat.load("sklearn", ["SPAM", "HAM"], exclusive=True)
    for _ in range(3):
        model.update([answer(t, "SPAM", "reject") for t in HAM])
    assert model.predict([HAM[0]])[0]["HAM"] > 0.5
    three = SklearnTextcat.load("sklearn", ["SPAM", "HAM", "PROMO"], exclusive=True)
    three.update([answer(t, "SPAM", "reject") for t in HAM])
    assert three.predict([HAM[0]])[0]["HAM"] == 0.5  # with three labels the reject says nothing about HAM


def test_a_later_answer_on_the_same_pair_wins_and_old_texts_are_replayed() -> None:
    model = SklearnTextcat.load("sklearn", ["SPAM"], replay=5)
    model.update([answer(SPAM[0], "SPAM", "reject")])
    model.update([answer(SPAM[0], "SPAM", "accept")] + [answer(t, "SPAM", "reject") for t in HAM])
    key = set_hashes({"text": SPAM[0]})["_input_hash"]
    assert model.memory.targets(key) == {"SPAM": 1.0} and len(model.memory) == 7
    assert len(model.memory.replay([key], 5)) == 5 and key not in model.memory.replay([key], 10)


def test_words_only_and_unbalanced_settings() -> None:
    model = taught(char_ngrams=None, balance=False)
    spam, ham = model.predict(["Claim your free cash prize now", "See you at home for dinner tonight"])
    assert spam["SPAM"] > ham["SPAM"]


@pytest.mark.parametrize("form", ["dir", "sklearn:dir"])
def test_save_and_load_round_trip(tmp_path: Path, form: str) -> None:
    model = taught(["SPAM", "PROMO"], exclusive=False, alpha=1e-3)
    model.to_disk(tmp_path / "model")
    spec = str(tmp_path / "model") if form == "dir" else f"sklearn:{tmp_path / 'model'}"
    loaded = SklearnTextcat.load(spec, ["SPAM", "PROMO", "NEW"])
    texts = SPAM + HAM
    before, after = model.predict(texts), loaded.predict(texts)
    assert [{k: round(v, 9) for k, v in p.items()} for p in before] == [
        {k: round(v, 9) for k, v in p.items() if k != "NEW"} for p in after
    ]
    assert {p["NEW"] for p in after} == {0.5} and loaded.settings["alpha"] == 1e-3
    only = SklearnTextcat.load(spec, ["PROMO"])  # a label subset; the rest is kept when saved again
    only.to_disk(tmp_path / "again")
    assert SklearnTextcat.load(str(tmp_path / "again"), ["SPAM"]).predict(texts) == [{"SPAM": p["SPAM"]} for p in before]


def test_bad_inputs_are_one_line_user_errors(tmp_path: Path) -> None:
    taught().to_disk(tmp_path / "m")
    cases = [
        (lambda: SklearnTextcat.load("sklearn", ["SPAM"], beam_width=4), "unknown sklearn setting(s) beam_width"),
        (lambda: SklearnTextcat.load("sklearn", []), "No labels given"),
        (lambda: SklearnTextcat.load(str(tmp_path / "missing"), ["SPAM"]), "No sklearn text classifier in"),
        (lambda: SklearnTextcat.load(str(tmp_path / "m"), ["SPAM"], n_features=16), "trained with n_features=262144"),
    ]
    for make, message in cases:
        with pytest.raises(UserError) as error:
            make()
        assert message in str(error.value) and "\n" not in str(error.value)
