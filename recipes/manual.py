"""ner.manual, spans.manual and ner.correct: whole texts annotated by hand, from scratch or from the model's entities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

from binanno import Arg, UserError, get_stream, recipe, set_hashes, split_string
from binanno.components.count import Total, count_records
from binanno.labels import get_labels, require_labels
from binanno.learning.guard import served_name
from binanno.types import Components, Task

from .ner import sentences

if TYPE_CHECKING:
    from spacy.language import Language

# Answers are keyed by their text, not by the pre-filled spans: with other patterns or a
# retrained model the same text would otherwise be asked again.
MANUAL_CONFIG = {"exclude_by": "input"}

LABEL_HELP = "Comma-separated labels, or a file with one label a line"
LOADERS = ("jsonl", "json", "csv", "txt")


@recipe(
    "ner.manual",
    dataset=Arg(help="Dataset to save answers to"),
    model=Arg(help="spaCy pipeline name or path, or blank:LANG, whose tokenizer splits the texts into tokens"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help=LABEL_HELP, kind="option", short="l", converter=get_labels),
    patterns=Arg(help="JSONL file of token or phrase patterns (spaCy EntityRuler format) whose matches are pre-highlighted",
                 kind="option", short="pt"),
    exclude=Arg(help="Skip texts answered in these datasets (comma-separated)", kind="option", short="e",
                converter=split_string),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=LOADERS),
)
def ner_manual(dataset: str, model: str, source: str, label: list[str] | None = None, patterns: str | None = None,
               exclude: list[str] | None = None, loader: str | None = None) -> Components:
    """Annotate entities by hand: select tokens, pick a label, accept the whole text.

    Texts are shown as tokens from MODEL's tokenizer (blank:en works), so a selection snaps
    to token boundaries. Spans already in the source and pattern matches come pre-highlighted
    and are editable; overlapping spans are refused. An accepted answer is a complete
    annotation: every token outside its spans is "not an entity" when you train on it.
    """
    return _manual("ner_manual", dataset, model, source, label, patterns, exclude, loader, overlaps=False)


@recipe(
    "spans.manual",
    dataset=Arg(help="Dataset to save answers to"),
    model=Arg(help="spaCy pipeline name or path, or blank:LANG, whose tokenizer splits the texts into tokens"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help=LABEL_HELP, kind="option", short="l", converter=get_labels),
    patterns=Arg(help="JSONL file of token or phrase patterns whose matches are pre-highlighted (overlaps kept)",
                 kind="option", short="pt"),
    exclude=Arg(help="Skip texts answered in these datasets (comma-separated)", kind="option", short="e",
                converter=split_string),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=LOADERS),
)
def spans_manual(dataset: str, model: str, source: str, label: list[str] | None = None, patterns: str | None = None,
                 exclude: list[str] | None = None, loader: str | None = None) -> Components:
    """Annotate spans by hand, overlaps allowed (for spaCy's span categorizer).

    The same as ner.manual, except that spans may overlap and nest.
    """
    return _manual("spans_manual", dataset, model, source, label, patterns, exclude, loader, overlaps=True)


def _manual(view_id: str, dataset: str, model: str, source: str, label: list[str] | None, patterns: str | None,
            exclude: list[str] | None, loader: str | None, overlaps: bool) -> Components:
    from binanno.components.preprocess import add_tokens
    from binanno.models.patterns import PatternMatcher, load_patterns

    labels = require_labels(label)
    nlp = load_tokenizer(model)
    matcher = PatternMatcher(nlp, load_patterns(patterns), labels=labels) if patterns else None
    # Read lazily; tokenize, and give the source's own spans their token offsets.
    stream: Iterable[Task] = add_tokens(nlp, get_stream(source, loader=loader))
    # Pre-highlight what the patterns match.
    if matcher is not None:
        stream = add_matches(matcher, stream, overlaps=overlaps)
    questions = as_manual(stream, complete=view_id == "ner_manual")
    return {
        "dataset": dataset,  # where the answers go
        "stream": questions,  # one text per question, with its tokens and pre-filled spans
        "view_id": view_id,  # tokens to select, the label bar on top
        "exclude": exclude,  # datasets whose answered texts are skipped
        "total": Total(lambda: count_records(source, loader)),  # one question per record of a file
        "config": {"labels": labels, **MANUAL_CONFIG},
    }


@recipe(
    "ner.correct",
    dataset=Arg(help="Dataset to save answers to"),
    model=Arg(help="spaCy pipeline name or path (or hf:PATH) whose entities are pre-filled"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help=LABEL_HELP + " (added to the model if new)", kind="option", short="l", converter=get_labels),
    update=Arg(help="Update the model from every corrected sentence, so the ones ahead come better annotated",
               kind="flag", short="UP"),
    exclude=Arg(help="Skip texts answered in these datasets (comma-separated)", kind="option", short="e",
                converter=split_string),
    unsegmented=Arg(help="Don't split the texts into sentences", kind="flag", short="U"),
    output=Arg(help="With --update: directory to save the updated model to when the server stops", kind="option", short="o"),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=LOADERS),
)
def ner_correct(dataset: str, model: str, source: str, label: list[str] | None = None, update: bool = False,
                exclude: list[str] | None = None, unsegmented: bool = False, output: str | None = None,
                loader: str | None = None) -> Components:
    """Correct the model's entities: each sentence comes pre-annotated, fix it and accept.

    The model's entities with the given labels are pre-filled in the manual interface; add,
    remove or relabel spans, then accept: the answer is a complete annotation. With --update
    the model learns from each batch of corrected sentences (in the worker thread, off the
    request path, as ner.teach does) and the sentences ahead are annotated again by the
    updated model.
    """
    from binanno.components.rescore import InOrder, Rescorer
    from binanno.models.backends import load_ner

    labels = require_labels(label)
    if output and not update:
        raise UserError("--output saves the model updated from your corrections: pass --update too")
    ner = load_ner(model, labels)
    # Read lazily and split into sentences, as ner.teach does.
    stream: Iterable[Task] = get_stream(source, loader=loader)
    if not unsegmented:
        stream = sentences(ner, stream)

    def annotate(tasks: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        return pre_annotate(ner, tasks)

    components: Components = {
        "dataset": dataset,  # where the answers go
        "view_id": "ner_manual",  # the sentence as tokens, the model's entities editable
        "exclude": exclude,  # datasets whose answered texts are skipped
        "config": {"labels": labels, **MANUAL_CONFIG},
    }
    if unsegmented:
        components["total"] = Total(lambda: count_records(source, loader))  # one question per record
    if not update:
        components["stream"] = (task for _, task in annotate(stream))  # in the source's order
        return components
    # After each update the sentences annotated ahead but not sent are annotated again.
    rescorer = Rescorer(annotate, ner.update)

    def on_exit(controller: Any) -> None:
        if output:
            ner.to_disk(output)  # the weights the update guard serves (binanno.learning.guard)
            print(f"✔ Saved {served_name(ner)} to {output}")

    components.update(stream=InOrder(annotate(stream), rescore=rescorer),  # in order, re-annotated after updates
                      update=rescorer.update,  # learns from each batch of corrected sentences
                      on_exit=on_exit)  # save the model with --output
    return components


def load_tokenizer(spec: str) -> Language:
    """The spaCy pipeline MODEL names (``blank:LANG``, a name or a path), for its tokenizer."""
    from binanno.models.backends import backend_of
    from binanno.models.pipelines import load_spacy

    backend, _ = backend_of(spec)
    if backend != "spacy":
        raise UserError(f"'{spec}' is not a spaCy pipeline: the tokens come from a spaCy tokenizer, pass blank:en, "
                        "a pipeline name or a path")
    return load_spacy(spec)


def add_matches(matcher: Any, stream: Iterable[Task], overlaps: bool = False) -> Iterator[Task]:
    """Add each pattern match to a tokenized task's spans (a PatternMatcher's matches).

    Without ``overlaps``, a match that overlaps a span already there (or a longer match) is
    left out, so the pre-annotation is one the ner_manual interface can show.
    """
    from binanno.components.preprocess import batched

    for batch in batched(stream, matcher.batch_size):
        for task, doc in zip(batch, matcher.docs([t.get("text", "") for t in batch])):
            spans = list(task.get("spans", []))
            have = {(s["start"], s["end"], s["label"]) for s in spans}
            taken = {i for s in spans if "token_start" in s for i in range(s["token_start"], s["token_end"] + 1)}
            # Longest first, so the widest of two overlapping matches wins.
            for start, end, label, _ in sorted(matcher.matches(doc), key=lambda m: (m[0] - m[1], m[0])):
                span = doc[start:end]
                if (span.start_char, span.end_char, label) in have:
                    continue
                if not overlaps and taken.intersection(range(start, end)):
                    continue
                spans.append({"start": span.start_char, "end": span.end_char, "token_start": start,
                              "token_end": end - 1, "label": label})
                taken.update(range(start, end))
            task["spans"] = sorted(spans, key=lambda s: (s["start"], s["end"]))
            yield task


def as_manual(stream: Iterable[Task], complete: bool) -> Iterator[Task]:
    """Each task as one manual question: hashed again (its spans are part of the question)."""
    for task in stream:
        task.setdefault("spans", [])
        if complete:
            task["_complete"] = True  # type: ignore[typeddict-unknown-key]  # an accept gives every entity
        yield set_hashes(task, overwrite=True)


def pre_annotate(ner: Any, stream: Iterable[Task], batch_size: int = 32) -> Iterator[tuple[float, Task]]:
    """(1.0, question) per text: its tokens, and the model's entities with our labels as its spans.

    ``ner`` is a loaded NER backend (its ``predict`` and spaCy ``nlp``). The question is a
    ``correct`` card: an accepted answer is a complete annotation.
    """
    from binanno.components.preprocess import batched, span_of, tokens_of
    from binanno.models.patterns import question_base

    tokenizer: Any = ner.nlp.tokenizer
    # The weights being trained, not those the update guard serves: a fix the annotator made shows at once.
    predict = getattr(ner, "predict_current", ner.predict)
    for batch in batched(stream, batch_size):
        texts = [task.get("text", "") for task in batch]
        for task, doc, ents in zip(batch, tokenizer.pipe(texts), predict(texts)):
            spans = []
            for start, end, label in ents:
                span = doc.char_span(start, end, alignment_mode="expand")
                if span is not None:
                    spans.append(span_of(span, label))
            question: dict[str, Any] = {**question_base(task), "tokens": tokens_of(doc), "spans": spans,
                                        "_question": "correct", "_complete": True}
            yield 1.0, set_hashes(question, overwrite=True)  # type: ignore[arg-type]
