"""Draw simulation curves (JSONL records) as score against annotator time, with matplotlib."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .errors import UserError


def read_curve(path: str | Path) -> list[dict[str, Any]]:
    """The records of one curve file written by ``ner.simulate`` / ``textcat.simulate``."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"Can't find curve file '{path}': pass the --output of a simulation")
    try:
        return [json.loads(line) for line in p.read_text(encoding="utf8").splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise UserError(f"'{path}' is not a curve file: invalid JSON on line {e.lineno}") from None


def plot_curves(paths: Sequence[str | Path], output: str | Path, x: str = "seconds", y: str = "f",
                title: str | None = None) -> None:
    """Plot ``y`` against ``x`` (annotator seconds are shown in minutes) for each curve file."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'binanno[plot]'") from None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for path in paths:
        records = read_curve(path)
        xs = [r[x] / 60 if x == "seconds" else r[x] for r in records]
        ax.plot(xs, [r[y] for r in records], marker=".", label=Path(path).stem)
    ax.set_xlabel("annotator minutes" if x == "seconds" else x)
    ax.set_ylabel({"f": "F1", "p": "precision", "r": "recall"}.get(y, y))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)
