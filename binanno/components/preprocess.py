"""Stream preprocessing with spaCy: sentence splitting and tokenization.

Both functions are lazy generators: they read the input stream in batches, run
``nlp.pipe`` on each batch and yield tasks as they go, so an endless source works.
"""

from __future__ import annotations

import copy
import logging
import sys
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..errors import UserError
from ..hashing import set_hashes
from ..types import Span, Task

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

# Metadata a component declares when it sets sentence boundaries.
SENT_ASSIGNS = ("token.is_sent_start", "doc.sents")


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` items, read lazily."""
    it = iter(items)
    while batch := list(islice(it, max(1, size))):
        yield batch


def required_components(nlp: Language, targets: Iterable[str]) -> list[str]:
    """``targets`` plus the upstream components they listen to (a shared tok2vec or transformer).

    A component that embeds through a listener gets no input unless its upstream
    component runs first, so running only the targets would fail or predict garbage.
    """
    targets = set(targets)
    needed = set(targets)
    for name, proc in nlp.pipeline:
        listener_map = getattr(proc, "listener_map", None) or {}
        if any(t in listener_map for t in targets):
            needed.add(name)
    return [name for name in nlp.pipe_names if name in needed]


def sentence_components(nlp: Language) -> list[str]:
    """Names of the enabled components that set sentence boundaries, with their upstreams."""
    setters = [n for n in nlp.pipe_names if any(a in nlp.get_pipe_meta(n).assigns for a in SENT_ASSIGNS)]
    return required_components(nlp, setters)


def tokens_of(doc: Doc | Any) -> list[dict[str, Any]]:
    """Prodigy-style token dicts for a Doc or Span: text, char start/end, id, ws."""
    offset = doc.start_char if hasattr(doc, "start_char") else 0
    first = doc.start if hasattr(doc, "start") else 0
    return [
        {
            "text": t.text,
            "start": t.idx - offset,
            "end": t.idx - offset + len(t.text),
            "id": t.i - first,
            "ws": bool(t.whitespace_),
        }
        for t in doc
    ]


def span_of(span: Any, label: str | None = None) -> Span:
    """A spaCy Span as a task's span: character and (inclusive) token offsets, and its label (or ``label``)."""
    return {"start": span.start_char, "end": span.end_char, "token_start": span.start, "token_end": span.end - 1,
            "label": label if label is not None else span.label_}


def _sentence_docs(nlp: Language, texts: list[str], batch_size: int) -> Iterator[Doc]:
    keep = sentence_components(nlp)
    # nlp.pipe(disable=...) leaves the shared pipeline untouched; select_pipes would not,
    # and this generator yields while other stages (the NER) use the same nlp.
    disable = [n for n in nlp.pipe_names if n not in keep]
    docs = nlp.pipe(texts, disable=disable, batch_size=batch_size)
    if keep:
        yield from docs
        return
    from spacy.pipeline import Sentencizer

    # A blank pipeline has no sentence setter: a rule-based one, not added to nlp.
    sentencizer = Sentencizer()
    for doc in docs:
        yield sentencizer(doc)


def split_sentences(
    nlp: Language,
    stream: Iterable[Task],
    batch_size: int = 32,
    min_length: int | None = None,
    stats: dict[str, int] | None = None,
) -> Iterator[Task]:
    """Yield one task per sentence of each input task.

    Only the components that set sentence boundaries run (a parser or senter and the
    tok2vec they listen to); a pipeline without one gets a rule-based sentencizer.
    Texts shorter than ``min_length`` characters are not split. Each sentence task is a
    deep copy of its input (``meta`` included) with the sentence text, spans that lie
    inside the sentence shifted to its offsets, and new hashes. Spans that cross a
    sentence boundary are dropped and counted in ``stats["dropped_spans"]`` (and logged),
    because a question must fit in the text shown. Whitespace-only sentences are skipped.
    """
    stats = stats if stats is not None else {}
    stats.setdefault("dropped_spans", 0)
    for batch in batched(stream, batch_size):
        texts = [task.get("text", "") for task in batch]
        docs = _sentence_docs(nlp, texts, batch_size)
        for task, doc in zip(batch, docs):
            if min_length is not None and len(doc.text) < min_length:
                sents = [doc[:]]
            else:
                sents = list(doc.sents)
            for sent in sents:
                if not sent.text.strip():
                    continue
                yield _sentence_task(task, sent, stats)
    if stats["dropped_spans"]:
        log.warning("split_sentences dropped %d spans that crossed sentence boundaries", stats["dropped_spans"])


def _sentence_task(task: Task, sent: Any, stats: dict[str, int]) -> Task:
    start, end = sent.start_char, sent.end_char
    new: Task = copy.deepcopy({k: v for k, v in task.items() if k not in ("_input_hash", "_task_hash")})  # type: ignore[assignment]
    new["text"] = sent.text
    if "tokens" in task:
        new["tokens"] = tokens_of(sent)
    if "spans" in task:
        spans: list[Span] = []
        for span in task["spans"]:
            if span["start"] >= start and span["end"] <= end:
                moved = dict(span)
                moved["start"] -= start
                moved["end"] -= start
                if "token_start" in span and "token_end" in span:
                    moved["token_start"] = span["token_start"] - sent.start
                    moved["token_end"] = span["token_end"] - sent.start
                spans.append(moved)  # type: ignore[arg-type]
            elif start <= span["start"] < end:  # counted once, in the sentence it starts in
                stats["dropped_spans"] += 1
        new["spans"] = spans
    return set_hashes(new, overwrite=True)


def add_tokens(nlp: Language, stream: Iterable[Task], skip: bool = False, use_chars: bool = False,
               batch_size: int = 64) -> Iterator[Task]:
    """Add ``tokens`` and each span's ``token_start``/``token_end`` (inclusive), lazily.

    Uses the pipeline's tokenizer only, or with ``use_chars`` one token per character (for
    scripts without spaces, or character-level spans). A span outside the text or one whose
    edges are not token boundaries is a UserError (retokenize, or fix the offsets); with
    ``skip`` such a task is left out instead, and the count is printed when the stream ends.
    """
    tokenizer: Any = _CharTokenizer(nlp) if use_chars else nlp.tokenizer
    skipped = 0
    for batch in batched(stream, batch_size):
        for task, doc in zip(batch, tokenizer.pipe(t.get("text", "") for t in batch)):
            try:
                spans = [_token_span(span, doc, task) for span in task.get("spans", [])]
            except UserError:
                if not skip:
                    raise
                skipped += 1
                continue
            task["tokens"] = tokens_of(doc)
            for span, (first, last) in zip(task.get("spans", []), spans):
                span["token_start"], span["token_end"] = first, last
            yield task
    if skipped:
        print(f"⚠ Skipped {skipped} task(s) whose spans don't match token boundaries", file=sys.stderr)


def _token_span(span: Any, doc: Doc, task: Task) -> tuple[int, int]:
    """The first and last token of ``span`` in ``doc``, or a UserError naming it."""
    start, end = span.get("start"), span.get("end")
    where = f"span {start}-{end} {span.get('label', '')!r} in task {task.get('_input_hash', '')}".rstrip()
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(doc.text):
        raise UserError(f"{where} lies outside the text (length {len(doc.text)}); fix its offsets")
    tokens = doc.char_span(start, end, alignment_mode="strict")
    if tokens is None:
        raise UserError(f"{where} doesn't match token boundaries ({doc.text[start:end]!r}); fix its offsets")
    return tokens.start, tokens.end - 1


class _CharTokenizer:
    """One token per character (whitespace included, as Prodigy's ``use_chars`` does)."""

    def __init__(self, nlp: Language) -> None:
        self.vocab = nlp.vocab

    def pipe(self, texts: Iterable[str]) -> Iterator[Doc]:
        from spacy.tokens import Doc

        for text in texts:
            yield Doc(self.vocab, words=list(text), spaces=[False] * len(text))


def add_label_options(stream: Iterable[Task], labels: Iterable[str]) -> Iterator[Task]:
    """Give each task the ``options`` of a choice card, one per label (Prodigy's textcat.manual)."""
    options = [{"id": label, "text": label} for label in labels]
    for task in stream:
        task["options"] = [dict(o) for o in options]  # type: ignore[typeddict-unknown-key]
        yield task


def add_labels_to_stream(stream: Iterable[Task], labels: Iterable[str]) -> Iterator[Task]:
    """Set each task's ``label`` to the (first) label: a yes/no card about one category."""
    first = next(iter(labels), None)
    if first is None:
        raise UserError("add_labels_to_stream needs at least one label")
    for task in stream:
        task["label"] = first
        yield task


def _fetched(value: Any, key: str, skip: bool) -> Any:
    from pathlib import Path
    from urllib.request import urlopen

    from .media import bytes_uri, data_uri

    if not isinstance(value, str) or value.startswith("data:"):
        return value
    if value.startswith(("http://", "https://")):
        try:
            with urlopen(value, timeout=30) as response:  # noqa: S310 (http(s) only, checked above)
                return bytes_uri(response.headers.get_content_type(), response.read())
        except OSError as err:
            if skip:
                return value
            raise UserError(f"Can't fetch '{value}' (task key '{key}'): {err}") from err
    path = Path(value).expanduser()
    if not path.is_file():
        if skip:
            return value
        raise UserError(f"Can't find the file '{value}' (task key '{key}'): check the path, or pass skip=True")
    return data_uri(path)


def fetch_media(stream: Iterable[Task], input_keys: Iterable[str], skip: bool = False) -> Iterator[Task]:
    """Prodigy's ``fetch_media``: the local paths and URLs in ``input_keys`` become base64 data URIs.

    A file that can't be read is an error, unless ``skip``: then the value stays as it is.
    """
    keys = [input_keys] if isinstance(input_keys, str) else list(input_keys)
    for task in stream:
        task = dict(task)  # type: ignore[assignment]
        for key in keys:
            if key in task:
                task[key] = _fetched(task[key], key, skip)  # type: ignore[literal-required]
        yield task


fetch_images = fetch_media  # Prodigy's older name


def make_raw_doc(nlp: Language, task: Task) -> Doc:
    """Prodigy's ``make_raw_doc``: the task's text as a Doc without running the pipeline.

    The task's ``tokens`` (with their ``ws``) give the words where it has them, else the tokenizer does.
    """
    from spacy.tokens import Doc

    tokens = task.get("tokens")
    if tokens:
        words = [t["text"] for t in tokens]
        spaces = [bool(t.get("ws", True)) for t in tokens]
        return Doc(nlp.vocab, words=words, spaces=spaces)
    if "text" not in task:
        raise UserError("make_raw_doc needs a task with 'text' or 'tokens'")
    return nlp.make_doc(task["text"])


def resolve_labels(nlp: Language, component: str, recipe_labels: Iterable[str] | None = None) -> list[str]:
    """Prodigy's ``resolve_labels``: the labels a recipe asks about, else the ones ``component`` predicts.

    A component the pipeline doesn't have, or one without labels and none given, is a UserError.
    """
    if recipe_labels:
        return list(dict.fromkeys(recipe_labels))
    labels = list(getattr(_component(nlp, component, "pass --label or a pipeline with that component"), "labels", ()) or ())
    if not labels:
        raise UserError(f"The component '{component}' has no labels: pass them with --label")
    return labels


def make_ner_suggestions(stream: Iterable[Task], nlp: Language, component: str = "ner",
                         labels: Iterable[str] | None = None, batch_size: int = 32,
                         show_progress_bar: bool = False) -> Iterator[Task]:
    """Prodigy's ``make_ner_suggestions``: each task with the entities ``component`` predicts as its ``spans``.

    Only entities with one of ``labels`` (all, when None) are kept; each span says its ``source``
    (the component). The task gets ``tokens`` where it has none; where it has them, the pipeline
    runs on those tokens so the token indices stay the task's. Lazy, in batches; hashed again.
    """
    wanted = set(labels) if labels else None
    return _suggest(stream, nlp, component, batch_size,
                    lambda doc: [e for e in doc.ents if wanted is None or e.label_ in wanted])


def make_spancat_suggestions(stream: Iterable[Task], nlp: Language, component: str = "spancat",
                             labels: Iterable[str] | None = None, batch_size: int = 32,
                             show_progress_bar: bool = False) -> Iterator[Task]:
    """Prodigy's ``make_spancat_suggestions``: the spans ``component`` predicts (its ``doc.spans`` key) as ``spans``."""
    key = getattr(_component(nlp, component), "key", "sc")
    wanted = set(labels) if labels else None
    return _suggest(stream, nlp, component, batch_size,
                    lambda doc: [s for s in doc.spans.get(key, []) if wanted is None or s.label_ in wanted])


def _component(nlp: Language, component: str, hint: str = "") -> Any:
    """The pipeline's component ``component``, or a UserError naming the ones it has."""
    if component not in nlp.pipe_names:
        raise UserError(f"The pipeline has no component '{component}' (it has: {', '.join(nlp.pipe_names) or 'none'})"
                        + (f": {hint}" if hint else ""))
    return nlp.get_pipe(component)


def _suggest(stream: Iterable[Task], nlp: Language, component: str, batch_size: int,
             predicted: Any) -> Iterator[Task]:
    enabled = required_components(nlp, [component]) if component in nlp.pipe_names else nlp.pipe_names
    for batch in batched(stream, batch_size):
        docs = nlp.pipe((make_raw_doc(nlp, task) for task in batch), batch_size=batch_size,
                        disable=[n for n in nlp.pipe_names if n not in enabled])
        for task, doc in zip(batch, docs):
            task = copy.deepcopy(task)
            task.setdefault("tokens", tokens_of(doc))
            task["spans"] = [{**span_of(s), "text": s.text, "source": component}  # type: ignore[typeddict-unknown-key]
                             for s in predicted(doc)]
            yield set_hashes(task, overwrite=True)


def remove_tokens(stream: Iterable[Task]) -> Iterator[Task]:
    """Prodigy's ``remove_tokens``: each task without its ``tokens``, nor its spans' token indices."""
    for task in stream:
        task = {k: v for k, v in task.items() if k != "tokens"}  # type: ignore[assignment]
        if "spans" in task:
            task["spans"] = [{k: v for k, v in s.items() if k not in ("token_start", "token_end")}  # type: ignore[misc]
                             for s in task["spans"]]
        yield task
