"""Commands over the answer store: export, import, drop and stats."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from binanno import Arg, UserError, command, connect, get_stream
from binanno.components.db import shown
from binanno.terminal import printable
from binanno.types import ANSWERS


@command(
    "db-out",
    dataset=Arg(help="Dataset to export"),
    output=Arg(help="JSONL file to write (default: stdout)"),
    answer=Arg(help="Only answers of this kind", kind="option", choices=ANSWERS),
)
def db_out(dataset: str, output: str | None = None, answer: str | None = None) -> None:
    """Export a dataset's answers as JSONL, oldest first."""
    db = connect()
    rows = db.get_answers(dataset, answer=answer)  # raises a one-line error for an unknown dataset
    out = Path(output).open("w", encoding="utf8") if output else sys.stdout
    count = 0
    try:
        for task in rows:
            out.write(json.dumps(task, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if output:
            out.close()
    if output:
        print(f"✔ Exported {count} answers from '{dataset}' to {output}", file=sys.stderr)


@command(
    "db-in",
    dataset=Arg(help="Dataset to import into (created if missing)"),
    source=Arg(help="File of tasks (JSONL, JSON, CSV or TXT)"),
    answer=Arg(help="Set this answer on every task (default: keep each task's own, else accept)", kind="option", choices=ANSWERS),
    skip_invalid=Arg(help="Skip invalid lines (with a count) instead of stopping", kind="flag"),
)
def db_in(dataset: str, source: str, answer: str | None = None, skip_invalid: bool = False) -> None:
    """Import annotated tasks into a dataset, rehashing them.

    The whole file is validated before anything is written, so a bad line stores nothing.
    """
    tasks = []
    for task in get_stream(source, rehash=True, dedup=False, skip_invalid=skip_invalid):
        if answer:
            task["answer"] = answer
        elif task.get("answer") not in ANSWERS:
            if "answer" in task:
                raise UserError(f"task {task.get('text', '')[:30]!r} has answer {task['answer']!r}: use one of {', '.join(ANSWERS)} or pass --answer", path=source)
            task["answer"] = "accept"
        tasks.append(task)
    db = connect()
    before = db.count(dataset) if dataset in db else 0
    db.add_answers(dataset, tasks)
    # What is stored, not what was read: a task answered twice by one session is one row.
    stored = db.count(dataset) - before
    same = f" ({len(tasks) - stored} replaced an answer to the same task by the same session)" if stored < len(tasks) else ""
    print(f"✔ Imported {len(tasks)} answers into '{dataset}': {stored} new rows{same}")


@command(
    "drop",
    dataset=Arg(help="Dataset to delete"),
    yes=Arg(help="Don't ask for confirmation", kind="flag", short="y"),
)
def drop(dataset: str, yes: bool = False) -> None:
    """Delete a dataset and all its answers."""
    db = connect()
    count = db.count(dataset)
    if not yes:
        if not sys.stdin.isatty():
            raise UserError(f"Dropping '{dataset}' deletes {count} answers: pass --yes to confirm")
        reply = input(f"Delete dataset '{dataset}' and its {count} answers? [y/N] ")
        if reply.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return
    db.drop(dataset)
    print(f"✔ Dropped '{dataset}' ({count} answers)")


@command(
    "stats",
    dataset=Arg(help="Dataset to describe (default: list all datasets)"),
    json_=Arg(help="Print JSON instead of a table", kind="flag"),
)
def stats(dataset: str | None = None, json_: bool = False) -> None:
    """Counts per answer, label and session, and how often the model was right at question time."""
    db = connect()
    if dataset is None:
        summary = {name: db.count(name) for name in db.datasets()}
        if json_:
            print(json.dumps(summary))
            return
        print(f"Database: {shown(db.target)}")  # a URL's password left out
        for name, count in summary.items():
            print(f"  {printable(name):<30} {count:>8} answers")
        if not summary:
            print("  (no datasets yet)")
        return
    info = db.stats(dataset)
    if json_:
        print(json.dumps(info))
        return
    print(f"Dataset '{printable(dataset)}': {info['total']} answers")
    print("  " + ", ".join(f"{a}: {info['answers'].get(a, 0)}" for a in ANSWERS))
    if info["model_accuracy"] is not None:
        last = info["model_accuracy_last_100"]
        print(f"  model right at question time: {info['model_accuracy']:.1%} of {info['model_accuracy_n']} "
              f"(last 100: {last:.1%})")
    if info["question_seconds"]:
        print("  seconds on screen per question type (median):")
        for kind, t in info["question_seconds"].items():
            per_token = f", {t['median_per_token']:.2f} s a token" if t["median_per_token"] is not None else ""
            print(f"    {printable(kind):<28} {t['median']:.1f} s over {t['n']} answers{per_token}")
    for title, table in (("label", info["labels"]), ("session", info["sessions"])):
        if table:
            print(f"  per {title}:")
            for key, counts in table.items():
                speed = info["session_speed"].get(key) if title == "session" else None
                print(f"    {printable(key) or '(none)':<28} " + "  ".join(f"{a} {counts.get(a, 0):>5}" for a in ANSWERS)
                      + (_speed(speed) if speed else ""))


def _speed(speed: dict[str, float | None]) -> str:
    parts = [f"{speed['median_seconds']:.1f} s an answer (median)"] if speed["median_seconds"] is not None else []
    if speed["per_minute"] is not None:
        parts.append(f"{speed['per_minute']:.1f} a minute")
    return "  " + ", ".join(parts) if parts else ""
