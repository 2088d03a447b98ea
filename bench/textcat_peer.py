"""The peer on SMS spam: small-text's pool-based active learning, as a user could run it instead of textcat.teach.

    pip install small-text==1.4.1        # bench-only: binanno does not depend on it
    python bench/textcat_peer.py --seeds 0,1,2
    python bench/textcat_peer.py --seeds 0,1,2 --features hashed   # with binanno's hashed n-grams instead of TF-IDF

The same split as bench/textcat_curves.py (bench/results/sms_{pool,eval}.jsonl: run that first, or
--prepare). A class-balanced logistic regression retrained on all labels every round, least
confidence over the whole pool, 10 labels a round from a random seed set of 10 (small-text's
random_initialization). F1 on spam on the eval set at 50/100/200/300/500 labels, and the labels
needed to reach a target F1 (--target, e.g. random's 500-label F1 from textcat_curves.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
POOL, EVAL = BENCH / "results" / "sms_pool.jsonl", BENCH / "results" / "sms_eval.jsonl"
POINTS = (50, 100, 200, 300, 500)


def read(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]
    return [r["text"] for r in rows], np.array([int(r["label"] == "spam") for r in rows])


def features(kind: str, pool: list[str], eval_texts: list[str]) -> tuple[object, object]:
    if kind == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer()
        return vectorizer.fit_transform(pool), vectorizer.transform(eval_texts)
    from binanno.models.textcat_sklearn import SklearnTextcat

    model = SklearnTextcat(["spam"])
    return model.vectorizer.transform(pool).tocsr(), model.vectorizer.transform(eval_texts).tocsr()


def run(kind: str, seed: int, labels: int) -> tuple[dict[int, float], list[tuple[int, float]], float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from small_text import (
        LeastConfidence,
        PoolBasedActiveLearner,
        SklearnClassifierFactory,
        SklearnDataset,
        random_initialization,
    )

    pool, y = read(POOL)
    eval_texts, y_eval = read(EVAL)
    X, X_eval = features(kind, pool, eval_texts)
    np.random.seed(seed)
    factory = SklearnClassifierFactory(LogisticRegression(class_weight="balanced", max_iter=1000), num_classes=2)
    learner = PoolBasedActiveLearner(factory, LeastConfidence(), SklearnDataset(X, y))
    start = time.perf_counter()
    seed_set = random_initialization(y, n_samples=10)
    rng = np.random.default_rng(seed)
    while len(set(y[seed_set])) < 2:
        # 12.6 % spam: a quarter of random 10-text seed sets have none, and the classifier cannot
        # be fitted on one class. A user of the peer labels 10 more random texts until both are there.
        rest = np.setdiff1d(np.arange(len(y)), seed_set)
        seed_set = np.concatenate([seed_set, rng.choice(rest, 10, replace=False)])
    learner.initialize_data(seed_set, y[seed_set])
    curve = []
    while True:
        n = len(learner.indices_labeled)
        curve.append((n, float(f1_score(y_eval, learner.classifier.predict(SklearnDataset(X_eval, y_eval))))))
        if n >= labels:
            break
        asked = learner.query(num_samples=10)
        learner.update(y[asked])
    return {n: f for n, f in curve if n in POINTS}, curve, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--features", default="tfidf", choices=("tfidf", "hashed"))
    parser.add_argument("--target", type=float, help="report the labels needed to reach this F1")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    results = [run(args.features, seed, args.labels) for seed in seeds]
    print(f"small-text 1.4.1, {args.features}, least confidence, rounds of 10, seeds {args.seeds} (median)")
    print("| labels | " + " | ".join(str(p) for p in POINTS) + " | loop s |")
    print("|---" * (len(POINTS) + 2) + "|")
    cells = [f"{statistics.median(r[0][p] for r in results):.3f}" for p in POINTS]
    print("| F1 | " + " | ".join(cells) + f" | {statistics.median(r[2] for r in results):.1f} |")
    if args.target:
        reach = [next((n for n, f in r[1] if f >= args.target), None) for r in results]
        print(f"labels to reach F1 {args.target}: " + " / ".join(str(n) if n else f"not in {args.labels}" for n in reach))


if __name__ == "__main__":
    main()
