"""NER question types: F1 at 20 and 60 annotator minutes, and seconds per decision by type, from curve files.

    python bench/ner_question_types.py bench/results/sec_pretrained_qauto_s0.jsonl bench/results/sec_pretrained_qlabel_s0.jsonl

The curves come from `binanno ner.simulate ... --strategy S --output FILE` (bench/README.md, "NER
question types", has the commands). A run that stopped before 60 minutes shows its last record's
F1 and minutes instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def at(records: list[dict], minutes: float) -> str:
    """F1 of the first record at or after ``minutes``, or the last one's with its minutes."""
    for record in records:
        if record["seconds"] >= minutes * 60:
            return f"{record['f']:.3f}"
    last = records[-1]
    return f"{last['f']:.3f} (at {last['seconds'] / 60:.0f})"


def row(path: Path) -> str:
    """One table row for a curve file."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not records:
        return f"| {path.stem} | no records yet |"
    last = records[-1]
    last.setdefault("questions", {})
    seconds = last.get("question_seconds") or {}
    per = ", ".join(f"{k} {seconds[k] / n:.1f}" for k, n in sorted(last["questions"].items()) if k in seconds and n)
    asked = ", ".join(f"{k} {n}" for k, n in sorted(last["questions"].items()))
    return (f"| {path.stem} | {records[0]['f']:.3f} | {at(records, 20)} | {at(records, 60)} | {last['decisions']} | "
            f"{asked} | {per or 'not recorded'} |")


def main(paths: list[str]) -> None:
    """Print one table row per curve file."""
    print("| curve | start | 20 min | 60 min | decisions | questions | seconds per decision |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        print(row(Path(path)))


if __name__ == "__main__":
    main(sys.argv[1:])
