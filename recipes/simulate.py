"""ner.simulate, textcat.simulate and plot: does the binary loop learn faster than the alternatives?"""

from __future__ import annotations

import json
from typing import Any, Iterable

from binanno import Arg, UserError, command, split_string

from .ner import NER_CONFIG
from .textcat import TEXTCAT_CONFIG


def parse_label_map(pairs: list[str] | None, labels: list[str]) -> dict[str, str]:
    """``["PER=PERSON", ...]`` as a dict over ``labels``; labels not mapped keep their name."""
    mapping = {}
    for pair in pairs or []:
        gold, sep, model = pair.partition("=")
        if not sep or not gold.strip() or not model.strip():
            raise UserError(f"--label-map entries look like GOLD=MODEL (e.g. PER=PERSON), not '{pair}'")
        mapping[gold.strip()] = model.strip()
    unknown = set(mapping) - set(labels)
    if unknown:
        raise UserError(f"--label-map names {', '.join(sorted(unknown))}, not in --label {','.join(labels)}")
    return {label: mapping.get(label, label) for label in labels}


def write_curve(records: Iterable[dict[str, Any]], output: str | None, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Print a row per record and append it to ``output`` as it comes, so a long run can be watched."""
    rows = []
    f = open(output, "w", encoding="utf8") if output else None
    try:
        print(f"{'decisions':>9} {'minutes':>8} {'P':>6} {'R':>6} {'F':>6} {'accept':>6} {'reject':>6} {'wall s':>7}")
        for record in records:
            record = {**record, **extra}
            rows.append(record)
            trained = f"  train F {record['train']['f']:.3f}" if "train" in record else ""
            print(f"{record['decisions']:>9} {record['seconds'] / 60:>8.1f} {record['p']:>6.3f} {record['r']:>6.3f} "
                  f"{record['f']:>6.3f} {record['accept']:>6} {record['reject']:>6} {record['wall']:>7.1f}{trained}", flush=True)
            if f:
                f.write(json.dumps(record) + "\n")
                f.flush()
    finally:
        if f:
            f.close()
    return rows


SIMULATION_ARGS: dict[str, Arg] = {
    "model": Arg(help="Model to start from: spaCy pipeline name or path, blank:LANG, or hf:PATH"),
    "pool": Arg(help="Gold examples the questions are drawn from (CoNLL or JSONL)"),
    "eval": Arg(help="Gold examples the model is scored on after every --eval-every decisions"),
    "label": Arg(help="Comma-separated gold labels to annotate", kind="option", short="l", converter=split_string),
    "strategy": Arg(help="What is asked: default (the teach recipe's defaults), uncertain or random yes/no questions, "
                    "manual (whole sentences by hand), or one question type (auto, binary, verify, correct, label, boundary)",
                    kind="option", choices=("default", "uncertain", "random", "manual", "auto", "binary", "verify", "correct",
                                            "label", "boundary")),
    "minutes": Arg(help="Stop after this many simulated annotator minutes (as well as --decisions)", kind="option",
                   converter=float),
    "decisions": Arg(help="Decisions to simulate (sentences for manual)", kind="option", short="n", converter=int),
    "eval_every": Arg(help="Score the model every this many decisions", kind="option", converter=int),
    "eval_minutes": Arg(help="Also score the model each time the annotator's clock passes another this many minutes",
                        kind="option", converter=float),
    "seed": Arg(help="Random seed (pool order, random strategy, model)", kind="option", converter=int),
    "output": Arg(help="Write the curve here as JSONL, one record per evaluation", kind="option", short="o"),
    "plot": Arg(help="Draw F1 against annotator time to this PNG (needs binanno[plot])", kind="option"),
    "batch_size": Arg(help="Answers per model update, as the server's batch_size", kind="option", converter=int),
    "sorter": Arg(help="How uncertain questions are picked (setting sorter)", kind="option", choices=("window", "ema", "pool")),
    "decision_cost": Arg(help="Annotator seconds per yes/no decision", kind="option", converter=float),
    "explore": Arg(help="Share of questions the window sorter picks at random (setting explore)", kind="option", converter=float),
    "answers": Arg(help="Write every answer the simulated annotator gave here as JSONL when the run ends (to train on, "
                   "e.g. with db-in and train)", kind="option"),
}


@command(
    "ner.simulate",
    **SIMULATION_ARGS,
    label_map=Arg(help="Gold label to model label, e.g. PER=PERSON,LOC=GPE", kind="option", converter=split_string),
    patterns=Arg(help="JSONL patterns that propose candidates, as in ner.teach", kind="option", short="pt"),
    cost_base=Arg(help="Annotator seconds per sentence card, before reading and marking", kind="option", converter=float),
    cost_token=Arg(help="Annotator seconds per token read on a sentence card", kind="option", converter=float),
    cost_entity=Arg(help="Annotator seconds per entity marked by hand (manual)", kind="option", converter=float),
    cost_edit=Arg(help="Annotator seconds per change to a pre-annotated sentence (correct)", kind="option", converter=float),
    cost_option=Arg(help="Annotator seconds per option read on a label-choice or boundary-fix card", kind="option",
                    converter=float),
    anchors=Arg(help="Share of the sentences asked as verify cards, the model's surest, as ner.teach --anchors", kind="option",
                converter=float),
    train_at=Arg(help="Also score a model trained with `binanno train` on the answers so far, at these annotator minutes "
                 "(e.g. 20,60)", kind="option", converter=split_string),
)
def ner_simulate(model: str, pool: str, eval: str, label: list[str] | None = None, label_map: list[str] | None = None,
                 strategy: str = "default", decisions: int = 1000, eval_every: int = 100, seed: int = 0,
                 output: str | None = None, plot: str | None = None, patterns: str | None = None, batch_size: int = 10,
                 sorter: str | None = None, decision_cost: float | None = None, explore: float | None = None,
                 minutes: float | None = None, cost_base: float | None = None, cost_token: float | None = None,
                 cost_entity: float | None = None, cost_edit: float | None = None, train_at: list[str] | None = None,
                 cost_option: float | None = None, anchors: float | None = None, answers: str | None = None,
                 eval_minutes: float | None = None) -> None:
    """Run ner.teach's stream and updates with an annotator who answers from gold entities.

    A yes/no question is accepted when its span and label match a gold entity exactly; a
    verify question when the sentence's spans are exactly the gold ones; a correct question
    is answered with the gold spans. Prints and writes precision, recall and F1 on EVAL every
    --eval-every decisions, against the annotator time they cost (--decision-cost, --cost-*;
    defaults and their sources in bench/README.md).
    """
    from binanno.config import resolve
    from binanno.gold import read_ner
    from binanno.models.backends import load_ner
    from binanno.models.patterns import load_patterns
    from binanno.simulation import simulate_ner

    if not label:
        raise UserError("Pass the gold labels to annotate, e.g. --label PER,LOC,ORG")
    _check_plot(plot, output)
    mapping = parse_label_map(label_map, label)
    gold_pool, gold_eval = read_ner(pool), read_ner(eval)
    settings = resolve(recipe_config=NER_CONFIG)  # the same defaults as ner.teach
    ner = load_ner(model, sorted(set(mapping.values())), patterns=load_patterns(patterns) if patterns else None, seed=seed,
                   beam_width=settings["beam_width"], beam_density=settings["beam_density"])
    if strategy == "default":
        strategy = settings["question"] if settings["question"] != "binary" else "uncertain"
    costs = _costs(decision=decision_cost, base=cost_base, token=cost_token, entity=cost_entity, edit=cost_edit,
                   option=cost_option)
    try:
        marks = [float(m) for m in train_at or []]
    except ValueError:
        raise UserError(f"--train-at takes minutes separated by commas (e.g. 20,60), not {','.join(train_at or [])}") from None
    if marks and model.startswith("hf:"):
        raise UserError("--train-at trains a spaCy pipeline; it does not work with an hf: MODEL")
    records = simulate_ner(ner, gold_pool, gold_eval, mapping, strategy=strategy, decisions=decisions,
                           eval_every=eval_every, seed=seed, costs=costs, sorter=sorter or settings["sorter"],
                           batch_size=batch_size, minutes=minutes, train_at=marks, base_model=model,
                           anchors=settings["anchors"] if anchors is None else anchors, answers_path=answers,
                           explore=settings["explore"] if explore is None else explore, eval_minutes=eval_minutes)
    extra = {"anchors": anchors} if anchors else {}
    write_curve(records, output, {"strategy": strategy, "seed": seed, "model": model, **extra})
    if plot and output:
        _plot(output, plot)


@command(
    "textcat.simulate",
    **SIMULATION_ARGS,
    exclusive=Arg(help="Labels are mutually exclusive", kind="flag", short="E"),
)
def textcat_simulate(model: str, pool: str, eval: str, label: list[str] | None = None, strategy: str = "uncertain",
                     decisions: int = 500, eval_every: int = 50, seed: int = 0, output: str | None = None,
                     plot: str | None = None, batch_size: int = 10, sorter: str | None = None,
                     decision_cost: float | None = None, exclusive: bool = False, explore: float | None = None,
                     minutes: float | None = None, answers: str | None = None, eval_minutes: float | None = None) -> None:
    """Run textcat.teach's stream and updates with an annotator who answers from gold labels.

    POOL and EVAL are JSONL with text and label (or an accept list), or label<TAB>text
    lines. Prints accuracy, precision, recall and F1 (and AUC per label in --output).
    """
    from binanno.config import resolve
    from binanno.gold import read_textcat
    from binanno.models.backends import load_textcat
    from binanno.simulation import simulate_textcat

    if not label:
        raise UserError("Pass the labels to ask about, e.g. --label spam")
    if strategy == "default":
        strategy = "uncertain"
    if strategy not in ("uncertain", "random"):
        raise UserError(f"textcat.simulate has no {strategy} strategy: use default, uncertain or random")
    _check_plot(plot, output)
    gold_pool, gold_eval = read_textcat(pool), read_textcat(eval)
    # A label the pool never has (labels are case-sensitive) would be rejected every time: a silent F1 of 0.
    known = sorted({lab for example in gold_pool for lab in example["accept"]})
    missing = [lab for lab in label if lab not in known]
    if missing:
        raise UserError(f"--label {', '.join(repr(m) for m in missing)} never occurs in '{pool}' (labels are "
                        f"case-sensitive); its labels: {', '.join(known) or 'none'}")
    settings = resolve(recipe_config=TEXTCAT_CONFIG)  # the same defaults as textcat.teach
    textcat = load_textcat(model, label, exclusive=exclusive, seed=seed)
    records = simulate_textcat(textcat, gold_pool, gold_eval, label, strategy=strategy, decisions=decisions,
                               eval_every=eval_every, seed=seed, costs=_costs(decision=decision_cost),
                               sorter=sorter or settings["sorter"], batch_size=batch_size, minutes=minutes,
                               answers_path=answers, explore=settings["explore"] if explore is None else explore,
                               eval_minutes=eval_minutes, **({"pool_size": settings["pool_size"]} if (sorter or settings["sorter"]) == "pool" else {}))
    write_curve(records, output, {"strategy": strategy, "seed": seed, "model": model})
    if plot and output:
        _plot(output, plot)


@command(
    "plot",
    output=Arg(help="PNG file to draw to"),
    curves=Arg(help="Comma-separated curve files (the --output of ner.simulate or textcat.simulate)", converter=split_string),
    metric=Arg(help="Record field to plot: f, p, r or accuracy", kind="option", short="m"),
    title=Arg(help="Title above the plot", kind="option", short="t"),
)
def plot(output: str, curves: list[str], metric: str = "f", title: str | None = None) -> None:
    """Draw one or more simulation curves: a score against annotator minutes."""
    from binanno.plot import plot_curves

    plot_curves(curves, output, y=metric, title=title)
    print(f"✔ Saved the plot to {output}")


def _costs(**given: float | None) -> Any:
    """binanno.learning.costs.Costs with the given parts; the others keep their defaults."""
    from binanno.learning.costs import Costs

    bad = [name for name, value in given.items() if value is not None and value < 0]
    if bad:
        raise UserError(f"Costs can't be negative: {', '.join(bad)}")
    return Costs(**{name: value for name, value in given.items() if value is not None})


def _check_plot(plot: str | None, output: str | None) -> None:
    if plot and not output:
        raise UserError("--plot draws the curve file: pass --output curve.jsonl too")


def _plot(curve: str, output: str) -> None:
    from binanno.plot import plot_curves

    plot_curves([curve], output)
    print(f"✔ Saved the plot to {output}")
