"""train: a spaCy pipeline from the binary answers in one or more datasets."""

from __future__ import annotations

from binanno import Arg, UserError, command, connect, split_string


@command(
    "train",
    output=Arg(help="Directory to save the trained pipeline to (loads with spacy.load)"),
    ner=Arg(help="Comma-separated datasets of ner.teach (or mark) answers", kind="option", converter=split_string),
    base_model=Arg(help="Pipeline to start from (name or path); default: a new blank:en NER", kind="option", short="m"),
    label=Arg(help="Labels to train (default: every label answered)", kind="option", short="l", converter=split_string),
    eval_split=Arg(help="Share of the answered texts held out for evaluation", kind="option", converter=float),
    n_iter=Arg(help="Passes over the training answers", kind="option", short="n", converter=int),
    seed=Arg(help="Random seed for the split and training", kind="option", converter=int),
)
def train(output: str, ner: list[str] | None = None, base_model: str | None = None, label: list[str] | None = None,
          eval_split: float = 0.2, n_iter: int = 10, seed: int = 0) -> None:
    """Train a spaCy NER from stored yes/no answers and print precision, recall and F1 per label.

    Accepted spans are partial gold (other tokens unknown), rejected spans are known-wrong
    entities; answers on the same text are merged. A held-out share of the texts is scored
    on its answers: an accepted span the model predicts is a true positive, one it misses a
    false negative, a rejected span it predicts a false positive.
    """
    from binanno.terminal import printable
    from binanno.training import format_scores, train_ner

    if not ner:
        raise UserError("Pass the datasets to train from, e.g. --ner my_dataset")
    if not 0 <= eval_split < 1:
        raise UserError(f"--eval-split must be at least 0 and below 1, not {eval_split}")
    db = connect()
    answers = [task for name in ner for task in db.get_answers(name)]
    scores = train_ner(answers, output, base_model=base_model, labels=label, eval_split=eval_split, n_iter=n_iter, seed=seed)
    print(printable(format_scores(scores), keep_newlines=True))  # labels come from the answers
