"""textcat.teach: is this text LABEL? Uncertain texts first, the model learns from every answer."""

from __future__ import annotations

import copy
from typing import Any, Iterable, Iterator

from binanno import Arg, get_stream, recipe, set_hashes, split_string
from binanno.config import resolve
from binanno.progress import LossProgress
from binanno.types import Components, Task

# Measured on SMS spam (bench/README.md), 3 seeds: ranking the whole pool, scored again after
# every update, beat both the moving-average filter and the look-ahead window. A source read
# from stdin is a real stream, with no pool to rank: there the filter (which beat the window).
TEXTCAT_CONFIG = {"sorter": "pool"}
STREAM_SORTER = "ema"


@recipe(
    "textcat.teach",
    dataset=Arg(help="Dataset to save answers to"),
    model=Arg(help="sklearn (hashed n-grams, no weights), a spaCy pipeline name or path, blank:LANG, or hf:PATH"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help="Comma-separated labels to ask about", kind="option", short="l", converter=split_string),
    patterns=Arg(help="JSONL file of terms or token patterns per label that propose texts for the cold start", kind="option", short="pt"),
    exclusive=Arg(help="Labels are mutually exclusive: accepting A rejects the others", kind="flag", short="E"),
    exclude=Arg(help="Skip questions answered in these datasets (comma-separated)", kind="option", short="e", converter=split_string),
    output=Arg(help="Directory to save the updated model to when the server stops", kind="option", short="o"),
    sorter=Arg(help="How uncertain questions are picked (setting sorter)", kind="option", choices=("window", "ema", "pool")),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=("jsonl", "json", "csv", "txt")),
)
def textcat_teach(dataset: str, model: str, source: str, label: list[str] | None = None, patterns: str | None = None,
                  exclusive: bool = False, exclude: list[str] | None = None, output: str | None = None,
                  sorter: str | None = None, loader: str | None = None) -> Components:
    """Ask 'is this text LABEL?' for the texts the model is least sure of; every answer updates it.

    One question per (text, label) pair. Labels are independent (multi-label) unless
    --exclusive, where an accept of one label is a reject of all the others. Patterns
    propose texts for a label before the model knows anything about it.
    """
    from binanno.components.combine import combine, update_all
    from binanno.components.rescore import Rescorer
    from binanno.components.sorters import prefer_uncertain
    from binanno.models.backends import load_textcat

    if not label:
        from binanno import UserError

        raise UserError("Pass the labels to ask about, e.g. --label SPAM or --label POSITIVE,NEGATIVE")
    settings = resolve(recipe_config=TEXTCAT_CONFIG)
    textcat = load_textcat(model, label, exclusive=exclusive)
    models: list[Any] = [textcat]
    if patterns:
        models.insert(0, LabelPatterns(patterns, label))  # first, so a matched question keeps meta.pattern
    # Read the source lazily, score every (text, label) pair, ask the most uncertain first.
    stream = get_stream(source, loader=loader)
    # After each update the questions scored ahead are scored again, so the next ones follow the new weights.
    rescorer = Rescorer(lambda tasks: combine(models, tasks), update_all(models), getattr(textcat, "question_scores", None))
    algorithm = sorter or settings["sorter"]
    if algorithm == "pool" and source == "-" and not sorter:
        algorithm = STREAM_SORTER
    options = {"pool_size": settings["pool_size"]} if algorithm == "pool" else {}
    questions = prefer_uncertain(combine(models, stream), algorithm=algorithm, explore=settings["explore"], rescore=rescorer,
                                 **options)

    def on_exit(controller: Any) -> None:
        if output:
            textcat.to_disk(output)
            print(f"✔ Saved the updated model to {output}")

    return {
        "dataset": dataset,  # where the answers go
        "stream": questions,  # one (text, label) question each, uncertain first
        "view_id": "classification",  # the label above the text
        "update": rescorer.update,  # the model (and the patterns' accept rates) learn from each batch
        "exclude": exclude,  # datasets whose answered questions are skipped
        "progress": LossProgress(),  # how far the model is from converging
        "on_exit": on_exit,  # save the model with --output
        "config": {"labels": label, "exclusive": exclusive, **TEXTCAT_CONFIG},
    }


class LabelPatterns:
    """Pattern matches as text-classification questions: the match is highlighted, the label asked.

    Patterns are for the cold start: a label's matches are proposed, and asked ahead of the model's
    questions, only until the label has both an accept and a reject, which is when the model can be
    fitted. From then on the model ranks every text, matched or not, and the matches already handed
    out lose their ``meta.pattern`` (a sorter given them back ranks them like any other question).
    Asking every match first made 44-47 of the first 50 SMS answers spam and F1 at 50 0.228, the
    F1 of calling every text spam (bench/README.md).
    """

    def __init__(self, path: str, labels: list[str]) -> None:
        import spacy

        from binanno.models.patterns import PatternMatcher, load_patterns

        self.matcher = PatternMatcher(spacy.blank("en"), load_patterns(path), labels=labels)
        self.answers: dict[str, set[str]] = {label: set() for label in labels}  # the answers seen per label
        self.out: dict[str, list[Task]] = {label: [] for label in labels}  # matches handed out while cold

    def cold(self, label: str) -> bool:
        """Whether ``label`` still lacks an accept or a reject."""
        return not {"accept", "reject"} <= self.answers.get(label, set())

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        asked: set[tuple[int, str]] = set()
        for score, question in self.matcher(stream):
            span = question["spans"][0]
            key = (question["_input_hash"], span["label"])
            if key in asked or not self.cold(span["label"]):  # one question per text and label, whatever matched
                continue
            asked.add(key)
            task = copy.deepcopy(question)
            task["label"] = span["label"]
            # Hash on the label only, so the model's question about the same pair is the same one.
            task.pop("_task_hash", None)
            self.out[span["label"]].append(task)
            yield score, set_hashes(task, task_keys=("label",))

    def update(self, answers: list[Task]) -> None:
        self.matcher.update(answers)
        for answer in answers:
            label = answer.get("label")
            if label in self.answers and answer.get("answer") in ("accept", "reject"):
                self.answers[label].add(answer["answer"])
        for label, tasks in self.out.items():
            if tasks and not self.cold(label):
                for task in tasks:  # not asked yet, or answered already: either way no longer ahead of the model
                    task.get("meta", {}).pop("pattern", None)
                tasks.clear()
