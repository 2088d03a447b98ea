"""Train one spaCy pipeline from merged answers (NER, textcat, spancat, any mix) and score it.

Each component is updated on the texts that have answers for it, and only on those: a text
answered for NER alone says nothing about its categories or its spans (the span categorizer
would read a missing ``sc`` group as "no spans here"). Yes/no NER answers train as partial
(unknown tokens missing, rejected spans through the NER's ``incorrect_spans_key``), complete
ones as complete; textcat labels nobody answered are missing, not false.

How held-out texts are scored, per component and label (see ``evaluate``):

- NER: an accepted span predicted exactly is a true positive, one not predicted a false
  negative, a rejected span predicted a false positive; in a complete annotation every
  other predicted entity is a false positive too. Predictions nobody answered don't count.
- textcat: per answered label, the prediction (the top label when exclusive, else a score
  of 0.5 or more) against the answer; unanswered labels don't count.
- spancat: exact spans against the accepted spans (complete).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .components.preprocess import required_components
from .corpus import NEG_KEY, SPANS_KEY, Corpus, held_out
from .errors import UserError
from .metrics import prf
from .models.pipelines import load_spacy
from .models.spacy_ner import DEFAULTS as NER_DEFAULTS
from .models.spacy_ner import ner_step

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

COUNTS = ("tp", "fp", "fn")
BEAM_WIDTH = NER_DEFAULTS["update_beam_width"]  # analyses the beam update keeps per text, as in the loop


def load_pipeline(base_model: str | None, lang: str = "en") -> Language:
    """``base_model`` (an installed name, a directory or ``blank:LANG``), else a blank ``lang`` pipeline."""
    return load_spacy(base_model or f"blank:{lang}")


def add_components(nlp: Language, corpus: Corpus) -> list[str]:
    """Add the components ``corpus`` trains (and their labels) to ``nlp``; returns the new ones."""
    new = []
    for name in corpus.components():
        if name not in nlp.pipe_names:
            config = {"ner": {"incorrect_spans_key": NEG_KEY}, "spancat": {"spans_key": SPANS_KEY}}.get(name, {})
            nlp.add_pipe(name, config=config)
            new.append(name)
        pipe = nlp.get_pipe(name)
        if name == "ner":
            # A loaded NER reads the key from moves.cfg when it builds gold states.
            pipe.moves.cfg["neg_key"] = NEG_KEY  # type: ignore[attr-defined]
            pipe.cfg["incorrect_spans_key"] = NEG_KEY  # type: ignore[attr-defined]
        for label in corpus.label_set(name):
            pipe.add_label(label)  # type: ignore[attr-defined]
    return new


def examples(nlp: Language, corpus: Corpus, keys: list[str], component: str,
             unknown: dict[str, list[tuple[int, int]]] | None = None,
             outside: dict[str, list[tuple[int, int]]] | None = None) -> list[Example]:
    """Training Examples for ``component`` from the inputs in ``keys`` that have answers for it
    (``unknown``, ``outside``: character ranges per input to leave missing or train as "O", see ``base_says``)."""
    from spacy.training import Example

    wanted, unknown, outside = set(corpus.keys(component)), unknown or {}, outside or {}
    return [Example(nlp.make_doc(corpus.gold[k].text), corpus.doc(nlp, k, unknown.get(k, ()), outside.get(k, ())))
            for k in keys if k in wanted]


Ranges = dict[str, list[tuple[int, int]]]


def base_says(nlp: Language, corpus: Corpus, keys: list[str], silver: bool) -> tuple[Ranges, Ranges]:
    """What a base model's NER predicts on the inputs ``keys`` before training: (foreign, outside).

    foreign: per complete input, the entities with labels nobody answered about. A complete answer
    on PERSON and ORG says nothing about the GPE a pretrained NER knows: training those tokens as
    "O" would teach it to forget GPE, so they are left missing.

    outside (with ``silver``): per yes/no-answered input, the tokens the base model predicted
    outside any entity that don't look like a name (``silver_outside``), trained as "O" as the
    loop does; without them the answers' unknown tokens give no signal at all.
    """
    from .models.spacy_ner import silver_outside

    labels = set(corpus.label_set("ner"))
    wanted = [k for k in keys if corpus.gold[k].has("ner") and (silver or corpus.gold[k].ner_complete is not None)]
    foreign: Ranges = {}
    outside: Ranges = {}
    for k, doc in zip(wanted, nlp.pipe(corpus.gold[k].text for k in wanted)):
        if corpus.gold[k].ner_complete is not None:
            foreign[k] = [(e.start_char, e.end_char) for e in doc.ents if e.label_ not in labels]
        else:
            outside[k] = [(doc[i].idx, doc[i].idx + len(doc[i])) for i in silver_outside(doc)]
    return foreign, outside


def train_pipeline(
    corpus: Corpus,
    output: Path | str | None,
    eval_corpus: Corpus | None = None,
    base_model: str | None = None,
    lang: str = "en",
    eval_split: float = 0.2,
    n_iter: int = 10,
    seed: int = 0,
    dropout: float = 0.2,
    batch_size: int = 8,
    ner_update: str | None = None,
    silver: bool | None = None,
) -> dict[str, Any]:
    """Train every component ``corpus`` has answers for, evaluate, save to ``output``.

    The NER trains with spaCy's own (greedy) update by default. ``ner_update="beam"`` trains the
    yes/no-answered texts with the loop's beam objective (``binanno.models.spacy_ner.ner_step``) and
    ``silver`` adds the base model's silver "O" on them, as the loop does; on three seeds of simulated
    answers neither beat the default (bench/README.md, "binanno train on the loop's answers"), so
    they stay options for the benchmark.

    Held out: ``eval_corpus`` if given (its texts are not trained on), else ``eval_split`` of
    the inputs. Returns
    ``{"components": {name: scores or None}, "n_train", "n_eval", "losses", "output"}`` where
    scores are ``{"labels": {label: {p, r, f, tp, fp, fn}}, "micro": ..., "n": texts}``.
    """
    from spacy.util import fix_random_seed

    fix_random_seed(seed)
    nlp = load_pipeline(base_model, lang)
    train_keys, eval_keys, scored_on = held_out(corpus, eval_corpus, eval_split, seed)
    names = corpus.components()
    pretrained = "ner" in names and "ner" in nlp.pipe_names
    ner_update = ner_update or "greedy"
    if ner_update not in ("beam", "greedy"):
        raise UserError(f"ner_update must be 'beam' or 'greedy', not {ner_update!r}")
    silver = bool(silver) and pretrained
    # Before anything new joins the pipeline: what the base model's own NER finds.
    unknown, outside = base_says(nlp, corpus, train_keys, silver) if pretrained else ({}, {})
    new = add_components(nlp, corpus)
    data = {name: examples(nlp, corpus, train_keys, name, *((unknown, outside) if name == "ner" else ())) for name in names}
    for name in new:
        nlp.get_pipe(name).initialize(lambda name=name: data[name] or examples(nlp, corpus, list(corpus.gold), name), nlp=nlp)  # type: ignore[attr-defined]
    optimizer = nlp.create_optimizer()
    rng = random.Random(seed)
    losses: list[dict[str, float]] = []
    for _ in range(n_iter):
        epoch: dict[str, float] = {}
        for name in names:
            # Update one component at a time on its own texts; the others (and what they listen to) rest.
            exclude = [n for n in nlp.pipe_names if n not in required_components(nlp, [name])]
            rng.shuffle(data[name])
            for i in range(0, len(data[name]), batch_size):
                batch = data[name][i : i + batch_size]
                if name == "ner":
                    ner_step(nlp, name, batch, optimizer, dropout, epoch, exclude, BEAM_WIDTH if ner_update == "beam" else 0)
                else:
                    nlp.update(batch, sgd=optimizer, drop=dropout, losses=epoch, exclude=exclude)
        losses.append(epoch)
    if output is not None:
        nlp.to_disk(output)
    return {
        "components": evaluate(nlp, scored_on, eval_keys, names, corpus),
        "n_train": len(train_keys), "n_eval": len(eval_keys), "losses": losses,
        "output": str(output) if output is not None else None,
    }


def evaluate(nlp: Language, gold: Corpus, keys: list[str], names: list[str], trained: Corpus) -> dict[str, dict[str, Any] | None]:
    """Per-label counts and P/R/F for each component on the inputs ``keys`` of ``gold``
    (None for a component none of them has answers for); the labels are ``trained``'s."""
    docs = dict(zip(keys, nlp.pipe(gold.gold[k].text for k in keys)))
    out: dict[str, dict[str, Any] | None] = {}
    for name in names:
        labels = trained.label_set(name)
        counts = {label: dict.fromkeys(COUNTS, 0) for label in labels}
        held = [k for k in gold.keys(name) if k in docs]
        for key in held:
            g, doc = gold.gold[key], docs[key]
            if name == "ner":
                pred = {(e.start_char, e.end_char, e.label_) for e in doc.ents}
                accepted = set(g.ner_complete) if g.ner_complete is not None else set(g.ner_accepted)
                wrong = pred - accepted if g.ner_complete is not None else set(g.ner_rejected) & pred
                _count(counts, accepted, pred, wrong)
            elif name == "spancat":
                pred = {(s.start_char, s.end_char, s.label_) for s in doc.spans.get(SPANS_KEY, [])}
                _count(counts, set(g.spans or []), pred, pred - set(g.spans or []))
            else:
                top = max(((s, lab) for lab, s in doc.cats.items() if lab in counts), default=(0.0, ""))[1] if name == "textcat" else None
                for label, value in g.cats.items():
                    if label in counts:
                        predicted = label == top if top is not None else doc.cats.get(label, 0.0) >= 0.5
                        kind = ("tp" if value else "fp") if predicted else ("fn" if value else None)
                        if kind:
                            counts[label][kind] += 1
        total = {c: sum(row[c] for row in counts.values()) for c in COUNTS}
        out[name] = {"labels": {lab: {**prf(**c), **c} for lab, c in counts.items()}, "micro": {**prf(**total), **total},
                     "n": len(held)} if held else None
    return out


def _count(counts: dict[str, dict[str, int]], gold: set[Any], pred: set[Any], wrong: set[Any]) -> None:
    for key in gold:
        if key[2] in counts:
            counts[key[2]]["tp" if key in pred else "fn"] += 1
    for key in wrong:
        if key[2] in counts:
            counts[key[2]]["fp"] += 1


def describe(corpus: Corpus) -> str:
    """One line on what was merged: answers per component, texts, conflicts and how they were resolved."""
    used = ", ".join(f"{corpus.textcat_name if c == 'textcat' else c} {n}" for c, n in corpus.answers.items() if n)
    n = len(corpus.gold)
    line = f"Merged {sum(corpus.answers.values())} answers ({used}) on {n} text{'' if n == 1 else 's'}"
    if corpus.conflicts:
        per = ", ".join(f"{c} {n}" for c, n in corpus.conflicts.items())
        line += f"; conflicting answers on {sum(corpus.conflicts.values())} ({per}): the latest answer wins"
    else:
        line += "; no conflicting answers"
    if corpus.misaligned:
        line += f"; {corpus.misaligned} spans not on token boundaries left out"
    return line


def format_report(result: dict[str, Any]) -> str:
    """Per component, a table of P/R/F per label (percentages), or "no evaluation examples"."""
    lines = [f"Trained on {result['n_train']} texts, evaluated on {result['n_eval']} held-out texts"]
    header = f"{'label':<20}{'P':>7}{'R':>7}{'F':>7}{'TP':>6}{'FP':>6}{'FN':>6}"
    for name, scores in result["components"].items():
        if scores is None:
            lines.append(f"{name}: no evaluation examples")
            continue
        lines += [f"{name} ({scores['n']} evaluation texts)", header, "-" * len(header)]
        for label, s in [*scores["labels"].items(), ("micro", scores["micro"])]:
            if not s["tp"] + s["fp"] + s["fn"]:  # nothing answered and nothing predicted: no score
                lines.append(f"{label:<20}nothing to score (no positive answer or prediction)")
                continue
            lines.append(f"{label:<20}{s['p'] * 100:>7.1f}{s['r'] * 100:>7.1f}{s['f'] * 100:>7.1f}{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}")
    if result.get("output"):
        lines.append(f"Saved to {result['output']}")
    return "\n".join(lines)
