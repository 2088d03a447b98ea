"""Cold start on SMS spam: labels until both classes are seen, and F1 at 50 labels, with and without patterns.

    python bench/textcat_coldstart.py --seeds 0,1,2

The SMS split of bench/textcat_curves.py (run it once first: it writes bench/results/sms_{pool,eval}.jsonl),
the sklearn backend and the pool sorter, through the real controller (binanno.simulation.simulate_textcat).
With patterns (bench/patterns/sms_spam.jsonl, eight words a user might write down for spam), the stream is
textcat.teach's: the patterns' questions first (recipes.textcat.LabelPatterns, then the model, combined),
so pattern matches are asked as soon as the source reaches them.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any, Iterable, Iterator

BENCH = Path(__file__).resolve().parent
POOL, EVAL = BENCH / "results" / "sms_pool.jsonl", BENCH / "results" / "sms_eval.jsonl"
PATTERNS = BENCH / "patterns" / "sms_spam.jsonl"
LABEL = "spam"


class WithLabelPatterns:
    """textcat.teach's stream for a simulation: the patterns' questions, then the model's."""

    def __init__(self, textcat: Any, patterns: Path) -> None:
        from binanno.components.combine import update_all
        from binanno.recipes.textcat import LabelPatterns

        self.textcat = textcat
        self.models = [LabelPatterns(str(patterns), [LABEL]), textcat]
        self.update = update_all(self.models)
        self.predict = textcat.predict
        self.question_scores = textcat.question_scores

    def __call__(self, stream: Iterable[Any]) -> Iterator[tuple[float, Any]]:
        from binanno.components.combine import combine

        return combine(self.models, stream)


def run(seed: int, patterns: bool, decisions: int) -> dict[str, Any]:
    """One simulation: the label sequence and F1 at ``decisions``."""
    from binanno.gold import read_textcat
    from binanno.models.textcat_sklearn import SklearnTextcat
    from binanno.simulation import simulate_textcat

    textcat = SklearnTextcat([LABEL], seed=seed)
    model: Any = WithLabelPatterns(textcat, PATTERNS) if patterns else textcat
    answers: list[str] = []
    learn = model.update

    def update(batch: list[Any]) -> Any:
        answers.extend(a["answer"] for a in batch)
        return learn(batch)

    model.update = update
    records = list(simulate_textcat(model, read_textcat(POOL), read_textcat(EVAL), [LABEL], "uncertain",
                                    decisions=decisions, eval_every=decisions, seed=seed, sorter="pool"))
    both = next((i + 1 for i in range(len(answers)) if {"accept", "reject"} <= set(answers[: i + 1])), None)
    return {"both": both, "first_accept": answers.index("accept") + 1 if "accept" in answers else None,
            "accepts": answers.count("accept"), "f": records[-1]["labels"][LABEL]["f"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--only", choices=("with", "without"), help="run one arm only")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"| patterns | seed | labels until both classes seen | first accept at | accepts in {args.decisions} | F1 at {args.decisions} |")
    print("|---|---|---|---|---|---|")
    for patterns in [arm for arm in (False, True) if args.only != ("with" if not arm else "without")]:
        rows = []
        for seed in seeds:
            row = run(seed, patterns, args.decisions)
            rows.append(row)
            print(f"| {'yes' if patterns else 'no'} | {seed} | {row['both']} | {row['first_accept']} | {row['accepts']} | {row['f']:.3f} |", flush=True)
        print(f"| {'yes' if patterns else 'no'} | median | {statistics.median(r['both'] or 0 for r in rows)} | "
              f"{statistics.median(r['first_accept'] or 0 for r in rows)} | {statistics.median(r['accepts'] for r in rows)} | "
              f"{statistics.median(r['f'] for r in rows):.3f} |", flush=True)


if __name__ == "__main__":
    main()
