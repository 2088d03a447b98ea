"""train and data-to-spacy: a spaCy pipeline (or spaCy's training files) from stored answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from binanno import Arg, UserError, command, connect, split_string

DATASETS = {
    "ner": "Comma-separated datasets of NER answers: yes/no (ner.teach, mark) train as partial, "
           "_complete ones (ner.manual, ner.correct, verify) as complete",
    "textcat": "Comma-separated datasets of text-classification answers: yes/no on a label, or choice",
    "spancat": "Comma-separated datasets of spans.manual answers (span categorizer, spans_key 'sc')",
}
EVAL = "Comma-separated datasets to evaluate on instead of a held-out split (their texts are not trained on)"
SPLIT = "Share of the answered texts held out for evaluation (default 0.2)"


def setup_gpu(use_gpu: int) -> None:
    """Prodigy's ``setup_gpu``: run spaCy on GPU ``use_gpu`` (0, 1, ...), or on the CPU for -1."""
    import spacy

    if use_gpu < 0:
        spacy.require_cpu()
        return
    try:
        spacy.require_gpu(use_gpu)
    except (ValueError, ImportError) as e:  # thinc: no CUDA, or cupy not installed
        raise UserError(f"Can't use GPU {use_gpu} ({e}): install cupy for your CUDA, or pass -1 for the CPU") from None


def _read(ner: list[str] | None, textcat: list[str] | None, spancat: list[str] | None, eval: list[str] | None,
          eval_split: float | None, label: list[str] | None) -> tuple[Any, Any, float]:
    """Check the arguments and read the answers: (corpus, eval corpus or None, eval split)."""
    from binanno.corpus import read_corpus, read_eval_corpus

    datasets = {k: v for k, v in (("ner", ner), ("textcat", textcat), ("spancat", spancat)) if v}
    if not datasets:
        raise UserError("Pass the datasets to train from: --ner, --textcat and/or --spancat DATASET[,DATASET]")
    if eval and eval_split is not None:
        raise UserError("Pass either --eval DATASETS or --eval-split, not both")
    split = 0.2 if eval_split is None else eval_split
    if not 0 <= split < 1:
        raise UserError(f"--eval-split must be at least 0 and below 1, not {split}")
    db = connect()
    corpus = read_corpus(db, datasets, label)
    held_out = read_eval_corpus(db, eval, corpus.components(), label) if eval else None
    return corpus, held_out, split


@command(
    "train",
    output=Arg(help="Directory to save the trained pipeline to (loads with spacy.load)"),
    ner=Arg(help=DATASETS["ner"], kind="option", converter=split_string),
    textcat=Arg(help=DATASETS["textcat"], kind="option", converter=split_string),
    spancat=Arg(help=DATASETS["spancat"], kind="option", converter=split_string),
    eval=Arg(help=EVAL, kind="option", converter=split_string),
    eval_split=Arg(help=SPLIT, kind="option", converter=float),
    base_model=Arg(help="Pipeline to start from (name, path or blank:LANG); default: blank:en", kind="option", short="m"),
    label=Arg(help="Labels to train (default: every label answered)", kind="option", short="l", converter=split_string),
    n_iter=Arg(help="Passes over the training answers", kind="option", short="n", converter=int),
    seed=Arg(help="Random seed for the split and training", kind="option", converter=int),
)
def train(output: str, ner: list[str] | None = None, textcat: list[str] | None = None, spancat: list[str] | None = None,
          eval: list[str] | None = None, eval_split: float | None = None, base_model: str | None = None,
          label: list[str] | None = None, n_iter: int = 10, seed: int = 0) -> None:
    """Train a spaCy pipeline (NER, textcat, spancat, any mix) from stored answers; print P/R/F per label.

    Answers on the same text are merged: a complete accepted NER version wins over yes/no ones,
    and where answers conflict the latest wins (the count is printed). Yes/no NER answers are
    partial gold (other tokens unknown, rejected spans known-wrong); textcat is exclusive when
    every answer is a choice of exactly one option, else multi-label. With --base-model, entities
    its NER finds with labels nobody answered stay unknown in complete answers (not "O").
    Held-out texts (or the --eval datasets) are scored on their answers, per component and label.
    """
    from binanno.terminal import printable
    from binanno.trainer import describe, format_report, train_pipeline

    if n_iter < 1:
        raise UserError(f"-n must be at least 1, not {n_iter}")
    if Path(output).is_file():
        raise UserError(f"'{output}' is a file: pass a directory to save the pipeline to")
    corpus, held_out, split = _read(ner, textcat, spancat, eval, eval_split, label)
    print(printable(describe(corpus), keep_newlines=True))  # labels come from the answers
    result = train_pipeline(corpus, output, eval_corpus=held_out, base_model=base_model, eval_split=split,
                            n_iter=n_iter, seed=seed)
    print(printable(format_report(result), keep_newlines=True))


@command(
    "data-to-spacy",
    output_dir=Arg(help="Directory to write train.spacy, dev.spacy and config.cfg to"),
    ner=Arg(help=DATASETS["ner"], kind="option", converter=split_string),
    textcat=Arg(help=DATASETS["textcat"], kind="option", converter=split_string),
    spancat=Arg(help=DATASETS["spancat"], kind="option", converter=split_string),
    eval=Arg(help=EVAL + " (written to dev.spacy)", kind="option", converter=split_string),
    eval_split=Arg(help=SPLIT, kind="option", converter=float),
    base_model=Arg(help="Pipeline whose tokenizer and components to use (name or path); default: blank --lang",
                   kind="option", short="m"),
    lang=Arg(help="Language of a new pipeline (default: en)", kind="option"),
    label=Arg(help="Labels to export (default: every label answered)", kind="option", short="l", converter=split_string),
    seed=Arg(help="Random seed for the split", kind="option", converter=int),
)
def data_to_spacy(output_dir: str, ner: list[str] | None = None, textcat: list[str] | None = None,
                  spancat: list[str] | None = None, eval: list[str] | None = None, eval_split: float | None = None,
                  base_model: str | None = None, lang: str = "en", label: list[str] | None = None, seed: int = 0) -> None:
    """Write stored answers as spaCy's training files (DocBin train.spacy / dev.spacy) and a config.cfg.

    Then `python -m spacy train` trains on them (the exact command is printed). Kept: complete
    NER answers (other tokens "O"); yes/no NER answers as entities with every other token
    missing, rejected spans in doc.spans["incorrect_spans"], which the NER reads as known-wrong;
    textcat answers in doc.cats (unanswered labels left out: missing); spans.manual spans in
    doc.spans["sc"]. Lost: rejected questions with several spans, spans off token boundaries,
    ignored answers, sessions and meta, the losing side of a conflict (the latest answer wins).
    spacy train updates every component on every text, so a text with no spancat answers
    teaches "no spans", and its scorer counts unanswered textcat labels as false.
    """
    from binanno.export import data_to_spacy as write
    from binanno.trainer import describe

    corpus, held_out, split = _read(ner, textcat, spancat, eval, eval_split, label)
    print(describe(corpus))
    result = write(corpus, output_dir, eval_corpus=held_out, base_model=base_model, lang=lang, eval_split=split, seed=seed)
    print(f"Wrote {result['n_train']} texts to {result['train']}, {result['n_dev']} to {result['dev']}, "
          f"and {result['config']} for {', '.join(result['components'])}")
    print("Train with:")
    print(result["command"])
