"""Refits on all answers and pool-wide ranking for text classification (the sklearn backend)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import numpy as np
import pytest
from conftest import write_jsonl
from fixtures_textcat import HAM, SPAM, answer, spam_answers

from binanno.components.rescore import Rescorer
from binanno.components.sorters import prefer_uncertain
from binanno.hashing import set_hashes
from binanno.models.textcat_sklearn import SklearnTextcat
from binanno.simulation import simulate_textcat


def is_spam(text: str) -> bool:
    return any(text.startswith(s) for s in SPAM)


def varied(n: int, seed: int) -> list[str]:
    """Spam and ham texts made unique, alternating."""
    rng = random.Random(seed)
    return [f"{rng.choice(SPAM if i % 2 else HAM)} ({rng.randrange(10**6)})" for i in range(n)]


def scores_of(model: SklearnTextcat, texts: list[str]) -> np.ndarray:
    return model.scores(texts)[:, 0]


def test_a_refit_uses_each_answer_once_whatever_the_batches() -> None:
    answers = spam_answers()
    once, twice, split = SklearnTextcat(["SPAM"]), SklearnTextcat(["SPAM"]), SklearnTextcat(["SPAM"])
    once.update(answers)
    twice.update(answers)
    twice.update(answers)  # a re-sent batch
    split.update(answers[:7])
    split.update(answers[7:])
    probe = varied(20, seed=1)
    assert len(twice.memory) == len(answers)
    # Refitted on all answers: the same weights, however the answers arrived.
    np.testing.assert_allclose(scores_of(twice, probe), scores_of(once, probe))
    np.testing.assert_allclose(scores_of(split, probe), scores_of(once, probe))
    assert scores_of(once, [SPAM[0]])[0] > 0.5 > scores_of(once, [HAM[0]])[0]


def test_a_refit_leaves_the_intercept_all_but_unpenalised_like_lbfgs() -> None:
    # liblinear penalises the intercept as a weight; intercept_scaling 10 gives lbfgs's solution.
    from sklearn.linear_model import LogisticRegression

    answers = [answer(t, "SPAM", "reject") for t in varied(40, seed=2) if not is_spam(t)] + spam_answers()
    fast, exact = SklearnTextcat(["SPAM"]), SklearnTextcat(["SPAM"], solver="lbfgs")
    fast.update(answers)
    exact.update(answers)
    assert fast.classifiers["SPAM"].intercept_[0] == pytest.approx(exact.classifiers["SPAM"].intercept_[0], abs=0.02)
    penalised = SklearnTextcat(["SPAM"], intercept_scaling=1.0)
    penalised.update(answers)
    assert abs(penalised.classifiers["SPAM"].intercept_[0] - exact.classifiers["SPAM"].intercept_[0]) > 0.05
    assert isinstance(exact.classifiers["SPAM"], LogisticRegression)


def test_a_refit_draws_no_replay_sample() -> None:
    model = SklearnTextcat(["SPAM"])
    model.update(spam_answers())
    state = model.memory.rng.getstate()
    model.update([answer(SPAM[1] + " again", "SPAM", "accept")])  # refitted: the replay is an online step's
    assert model.memory.rng.getstate() == state
    online = SklearnTextcat(["SPAM"], refit=False)
    online.update(spam_answers())
    state = online.memory.rng.getstate()
    online.update([answer(SPAM[1] + " again", "SPAM", "accept")])
    assert online.memory.rng.getstate() != state


def test_a_label_with_one_class_learns_online_until_it_has_both() -> None:
    model = SklearnTextcat(["SPAM"])
    model.update([answer(t, "SPAM", "reject") for t in HAM])
    assert type(model.classifiers["SPAM"]).__name__ == "SGDClassifier"
    assert scores_of(model, [HAM[0]])[0] < 0.5
    model.update([answer(SPAM[0], "SPAM", "accept")])
    assert type(model.classifiers["SPAM"]).__name__ == "LogisticRegression"


def test_online_mode_and_a_loaded_model_that_refits_on_its_saved_answers_too(tmp_path: Path) -> None:
    online = SklearnTextcat(["SPAM"], refit=False)
    online.update(spam_answers())
    assert type(online.classifiers["SPAM"]).__name__ == "SGDClassifier"
    refitted = SklearnTextcat(["SPAM"])
    refitted.update(spam_answers())
    refitted.to_disk(tmp_path / "m")
    loaded = SklearnTextcat.load(str(tmp_path / "m"), ["SPAM"])
    before = scores_of(loaded, [SPAM[1]])[0]
    loaded.update([answer(SPAM[1], "SPAM", "reject")])  # one answer: a refit on it alone would forget the rest
    after = scores_of(loaded, [SPAM[1], SPAM[2]])
    assert after[0] < before and after[1] > 0.5


def test_the_pool_asks_the_most_uncertain_text_of_the_whole_pool_after_a_refit() -> None:
    texts = varied(300, seed=2)
    model = SklearnTextcat(["SPAM"])
    rescorer = Rescorer(model, model.update, model.question_scores)
    sorter = prefer_uncertain(model(set_hashes({"text": t}) for t in texts), algorithm="pool", pool_size=1000, rescore=rescorer)
    asked = [next(sorter) for _ in range(12)]  # at 0.5 all: file order, and the pool fills up
    rescorer.update([answer(t["text"], "SPAM", "accept" if is_spam(t["text"]) else "reject")
                     for t in asked])
    question = next(sorter)
    rest = [t for t in texts if t not in {a["text"] for a in asked}]
    uncertainty = np.abs(scores_of(model, rest) - 0.5)
    assert abs(scores_of(model, [question["text"]])[0] - 0.5) == pytest.approx(uncertainty.min())
    assert question["meta"]["score"] == pytest.approx(scores_of(model, [question["text"]])[0])


def test_a_source_larger_than_the_pool_is_served_with_flat_memory() -> None:
    pulled = 0

    def source() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for i, text in enumerate(varied(3000, seed=3)):
            pulled = i + 1
            yield set_hashes({"text": text})

    model = SklearnTextcat(["SPAM"], cache_size=200)
    rescorer = Rescorer(model, model.update, model.question_scores)
    sorter = prefer_uncertain(model(source()), algorithm="pool", pool_size=150, rescore=rescorer)
    served = 0
    for _ in range(40):
        batch = [next(sorter) for _ in range(25)]
        served += len(batch)
        rescorer.update([answer(t["text"], "SPAM", "accept" if is_spam(t["text"]) else "reject")
                         for t in batch])
        # Held: at most the pool, plus one scoring batch read ahead by the model.
        assert pulled - served <= 150 + model.settings["batch_size"]
        # Stored features: the answered texts (every refit uses them) plus at most twice cache_size others.
        assert len(model.store) - len(model.store.pinned) <= 2 * 200 + 150
    assert served == 1000 and pulled > 1000


def test_textcat_teach_ranks_a_pool_and_a_stdin_stream_by_the_filter(tmp_path: Path) -> None:
    from recipes.textcat import textcat_teach

    source = write_jsonl(tmp_path / "s.jsonl", [{"text": t} for t in varied(40, seed=4)])
    pool = textcat_teach("d", "sklearn", str(source), label=["SPAM"])
    assert type(pool["stream"]).__name__ == "PoolSort"
    assert type(textcat_teach("d", "sklearn", "-", label=["SPAM"])["stream"]).__name__ == "EmaFilter"
    assert type(textcat_teach("d", "sklearn", str(source), label=["SPAM"], sorter="window")["stream"]).__name__ == "WindowSort"


@pytest.mark.slow
def test_the_simulation_asks_what_the_server_asks(start_server: Any, tmp_path: Path) -> None:
    texts = varied(120, seed=5)
    pool = [{"text": t, "accept": ["SPAM"] if is_spam(t) else []} for t in texts]
    truth = {p["text"]: p["accept"] for p in pool}
    # The simulation shuffles its pool with the seed; the server reads the file in that order.
    order = list(range(len(pool)))
    random.Random(0).shuffle(order)
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": pool[i]["text"]} for i in order])

    model = SklearnTextcat(["SPAM"])
    asked_sim: list[str] = []
    learn = model.update

    def update(answers: list[Any]) -> Any:
        asked_sim.extend(a["text"] for a in answers)
        return learn(answers)

    model.update = update  # type: ignore[method-assign]
    list(simulate_textcat(model, pool, pool[:5], ["SPAM"], "uncertain", decisions=50, eval_every=50, seed=0, sorter="pool"))

    server = start_server("textcat.teach", "order", "sklearn", str(source), "--label", "SPAM")
    asked_server: list[str] = []

    def wait_idle() -> None:
        for _ in range(300):
            if httpx.get(server.url + "/status").json()["status"]["idle"]:
                return
            time.sleep(0.1)

    while len(asked_server) < 50:
        wait_idle()
        tasks = server.questions()[: 50 - len(asked_server)]
        assert tasks
        wait_idle()
        answers = [{**t, "answer": "accept" if t["label"] in truth[t["text"]] else "reject"} for t in tasks]
        asked_server.extend(t["text"] for t in tasks)
        server.post("/give_answers", {"answers": answers, "session_id": None})
    assert asked_server == asked_sim[:50]


def test_the_spacy_textcat_refits_on_every_answer_so_far() -> None:
    from binanno.models.textcat_spacy import SpacyTextcat

    refit = SpacyTextcat.load("blank:en", ["SPAM"])
    online = SpacyTextcat.load("blank:en", ["SPAM"], refit_epochs=0)
    answers = spam_answers()
    for model in (refit, online):
        model.update(answers[:7])
        model.update(answers[7:])
        model.update(answers[7:])  # a re-sent batch: remembered once
        assert len(model.memory) == len(answers)

    def gap(model: SpacyTextcat) -> float:
        cats = model.predict([SPAM[0], HAM[0]])
        return cats[0]["SPAM"] - cats[1]["SPAM"]

    # Passes over all answers after each batch learn the early ones better than one step on the batch.
    assert gap(refit) > gap(online) > 0
