"""Cost per label of pool-based text classification as the pool grows: textcat.teach's loop vs the peer.

    python bench/textcat_pool_cost.py --sizes 3620,36200,362000 --rounds 30
    python bench/textcat_pool_cost.py --sizes 3620,36200,362000 --rounds 30 --peer   # small-text (pip install small-text==1.4.1)

The SMS pool (bench/results/sms_pool.jsonl, from bench/textcat_curves.py) repeated to each size, every
copy of a text made unique with a number. binanno: the worker's work per round of 10 labels (the
sklearn model's refit on all answers, the pool sorter scoring its pool again and picking the next 10),
through the same SklearnTextcat, Rescorer and PoolSort that textcat.teach uses, with its default
pool_size (a sliding pool over larger sources). The peer: small-text's query + update per round
(least confidence over the whole pool, logistic regression retrained on all labels, TF-IDF fitted on
the pool first). Both after a first round of 10 random labels; the time to the first question and
the peak memory (max RSS of the process: run one size per process for a clean figure) are printed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import numpy as np

POOL = Path(__file__).resolve().parent / "results" / "sms_pool.jsonl"


def texts_of(size: int) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in POOL.read_text(encoding="utf8").splitlines()]
    texts = [f"{rows[i % len(rows)]['text']} ({i})" for i in range(size)]
    return texts, np.array([int(rows[i % len(rows)]["label"] == "spam") for i in range(size)])


def binanno_cost(size: int, rounds: int) -> dict[str, float]:
    from binanno.components.rescore import Rescorer
    from binanno.components.sorters import prefer_uncertain
    from binanno.config import BY_NAME
    from binanno.hashing import set_hashes
    from binanno.models.textcat_sklearn import SklearnTextcat

    texts, y = texts_of(size)
    truth = dict(zip(texts, y.tolist()))
    model = SklearnTextcat(["spam"])
    rescorer = Rescorer(model, model.update, model.question_scores)
    start = time.perf_counter()
    sorter = prefer_uncertain(model(set_hashes({"text": t}) for t in texts), algorithm="pool",
                              pool_size=BY_NAME["pool_size"].default, rescore=rescorer)
    first = next(sorter)
    to_first = time.perf_counter() - start
    batch = [first] + [next(sorter) for _ in range(9)]
    times = []
    for _ in range(rounds + 3):  # the first rounds fill the pool (it doubles as it is asked): not counted
        t = time.perf_counter()
        rescorer.update([{**q, "answer": "accept" if truth[q["text"]] else "reject"} for q in batch])
        batch = [next(sorter) for _ in range(10)]
        times.append(time.perf_counter() - t)
    return {"first_s": to_first, "ms_per_label": statistics.median(times[3:]) * 100}


def peer_cost(size: int, rounds: int) -> dict[str, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from small_text import (
        LeastConfidence,
        PoolBasedActiveLearner,
        SklearnClassifierFactory,
        SklearnDataset,
        random_initialization,
    )

    texts, y = texts_of(size)
    start = time.perf_counter()
    X = TfidfVectorizer().fit_transform(texts)
    factory = SklearnClassifierFactory(LogisticRegression(class_weight="balanced", max_iter=1000), num_classes=2)
    learner = PoolBasedActiveLearner(factory, LeastConfidence(), SklearnDataset(X, y))
    np.random.seed(0)
    seed_set = random_initialization(y, n_samples=10)
    learner.initialize_data(seed_set, y[seed_set])
    asked = learner.query(num_samples=10)
    to_first = time.perf_counter() - start
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        learner.update(y[asked])
        asked = learner.query(num_samples=10)
        times.append(time.perf_counter() - t)
    return {"first_s": to_first, "ms_per_label": statistics.median(times) * 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3620,36200,362000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--peer", action="store_true", help="measure small-text instead of binanno")
    args = parser.parse_args()
    name = "small-text 1.4.1" if args.peer else "binanno (sklearn, pool)"
    print("| loop | pool texts | ms per label (median round / 10) | s to the first question | max RSS MB |")
    print("|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        result = (peer_cost if args.peer else binanno_cost)(size, args.rounds)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {name} | {size:,} | {result['ms_per_label']:.1f} | {result['first_s']:.1f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
