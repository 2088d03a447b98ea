"""Match patterns (spaCy EntityRuler format) to propose entity candidates.

A patterns file is JSONL, one pattern a line, as spaCy's EntityRuler reads it::

    {"label": "ORG", "pattern": "Acme Corp"}                       # phrase: exact token texts
    {"label": "ORG", "pattern": [{"LOWER": "acme"}, {"LOWER": "corp"}]}   # token pattern
    {"label": "ORG", "pattern": "Acme", "id": "acme"}              # optional id, kept in meta

Each match becomes its own question with ``meta.pattern`` set (the pattern's ``id``,
else its index), so sorters pass it through instead of filtering it out.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..components.preprocess import batched, tokens_of
from ..errors import UserError
from ..hashing import input_hash, set_hashes
from ..types import Task

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# Token attributes only the tokenizer and vocab set; any other needs the pipeline to run.
TOKENIZER_ATTRS = {
    "ORTH",
    "TEXT",
    "LOWER",
    "NORM",
    "SHAPE",
    "PREFIX",
    "SUFFIX",
    "LENGTH",
    "IS_ALPHA",
    "IS_ASCII",
    "IS_DIGIT",
    "IS_LOWER",
    "IS_UPPER",
    "IS_TITLE",
    "IS_PUNCT",
    "IS_SPACE",
    "IS_STOP",
    "IS_BRACKET",
    "IS_QUOTE",
    "IS_LEFT_PUNCT",
    "IS_RIGHT_PUNCT",
    "IS_CURRENCY",
    "LIKE_NUM",
    "LIKE_EMAIL",
    "LIKE_URL",
    "OP",
    "_",
}


def _check_pattern(obj: Any) -> str | None:
    """Why ``obj`` is not a valid pattern line, or None."""
    from spacy.schemas import validate_token_pattern

    if not isinstance(obj, dict):
        return "expected a JSON object with 'label' and 'pattern'"
    label, pattern = obj.get("label"), obj.get("pattern")
    if not isinstance(label, str) or not label:
        return "'label' must be a non-empty string"
    if isinstance(pattern, str):
        return None if pattern.strip() else "'pattern' is an empty string"
    if isinstance(pattern, list) and pattern:
        errors = validate_token_pattern(pattern)
        return f"invalid token pattern: {'; '.join(errors)}" if errors else None
    return "'pattern' must be a string (phrase) or a non-empty list of token dicts"


def load_patterns(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a JSONL patterns file. A bad line raises UserError naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise UserError('patterns file not found; pass a JSONL file of {"label", "pattern"} lines', path=path)
    patterns = []
    with path.open(encoding="utf8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"invalid JSON ({e.msg}); one pattern object per line", path=path, line=number) from None
            problem = _check_pattern(obj)
            if problem:
                raise UserError(problem, path=path, line=number)
            patterns.append(obj)
    return patterns


class PatternMatcher:
    """Proposes one question per pattern match; a Model, so it can also run on its own.

    The score of a match is the pattern's smoothed accept rate so far,
    ``(accepts + prior_correct) / (answers + prior_correct + prior_incorrect)``, which starts at
    0.5 and is updated from answers to questions that carry ``meta.pattern``.

    Prodigy's constructor works too: ``PatternMatcher(nlp, combine_matches=True, all_examples=True)
    .from_disk(path)``. ``label_span`` puts the label on each span, ``label_task`` on the task (for
    text classification); ``combine_matches`` asks one question with every match of a text (without
    overlaps unless ``allow_overlap``); ``all_examples`` also yields the texts nothing matched (score
    0); ``filter_labels`` keeps only patterns with those labels; ``task_hash_keys`` are the keys of
    the task hash.
    """

    def __init__(
        self,
        nlp: Language,
        patterns: Iterable[dict[str, Any]] | None = None,
        labels: Iterable[str] | None = None,
        phrase_matcher_attr: str = "ORTH",
        batch_size: int = 64,
        *,
        label_span: bool = True,
        label_task: bool = False,
        combine_matches: bool = False,
        all_examples: bool = False,
        filter_labels: Iterable[str] | None = None,
        allow_overlap: bool = False,
        task_hash_keys: Iterable[str] | None = None,
        prior_correct: float = 1.0,
        prior_incorrect: float = 1.0,
    ) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = nlp
        self.batch_size = batch_size
        labels = labels if labels is not None else filter_labels
        self.labels = list(labels) if labels is not None else None
        self.label_span, self.label_task, self.combine_matches = label_span, label_task, combine_matches
        self.all_examples, self.allow_overlap = all_examples, allow_overlap
        self.task_hash_keys = tuple(task_hash_keys) if task_hash_keys is not None else None
        self.prior_correct, self.prior_incorrect = prior_correct, prior_incorrect
        self.patterns: list[dict[str, Any]] = []
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr=phrase_matcher_attr)
        self.counts: dict[Any, list[int]] = {}  # pattern key -> [accepts, rejects]
        self.needs_pipeline = phrase_matcher_attr.upper() not in TOKENIZER_ATTRS
        self._offered = 0  # patterns offered so far, kept or not: a pattern's default key is its index
        self.add_patterns(patterns or [])

    def add_patterns(self, patterns: Iterable[dict[str, Any]]) -> None:
        """Add pattern dicts (``{"label", "pattern"}``, optionally ``"id"``); a bad one raises UserError."""
        for pattern in patterns:
            index, self._offered = self._offered, self._offered + 1
            problem = _check_pattern(pattern)
            if problem:
                raise UserError(f"pattern {index}: {problem}")
            if self.labels is not None and pattern["label"] not in self.labels:
                continue
            key = str(len(self.patterns))
            self.patterns.append({**pattern, "key": pattern.get("id", index)})
            if isinstance(pattern["pattern"], str):
                # Tokenize the phrase like the texts, so offsets and tokens agree.
                self.phrase_matcher.add(key, [self.nlp.make_doc(pattern["pattern"])])
            else:
                self.matcher.add(key, [pattern["pattern"]])
                attrs = {a.upper() for tok in pattern["pattern"] for a in tok}
                self.needs_pipeline |= bool(attrs - TOKENIZER_ATTRS)

    def from_disk(self, path: str | Path) -> PatternMatcher:
        """Add the patterns of a JSONL file (see ``load_patterns``); returns this matcher, as Prodigy's does."""
        self.add_patterns(load_patterns(path))
        return self

    def to_disk(self, path: str | Path) -> None:
        """Write the patterns as a JSONL file that ``from_disk`` reads."""
        lines = [json.dumps({k: v for k, v in p.items() if k != "key"}, ensure_ascii=False) for p in self.patterns]
        Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf8")

    def __len__(self) -> int:
        return len(self.patterns)

    def score(self, key: Any) -> float:
        """The smoothed accept rate of the pattern with this key (0.5 before any answer, with equal priors)."""
        accepts, rejects = self.counts.get(key, (0, 0))
        return (accepts + self.prior_correct) / (accepts + rejects + self.prior_correct + self.prior_incorrect)

    def matches(self, doc: Doc) -> list[tuple[int, int, str, Any]]:
        """(token start, token end exclusive, label, pattern key) for every match in ``doc``."""
        found = []
        # An empty matcher warns on every call, so only the ones with patterns run.
        matchers = [m for m in (self.matcher, self.phrase_matcher) if len(m)]
        for match_id, start, end in [m for matcher in matchers for m in matcher(doc)]:
            pattern = self.patterns[int(self.nlp.vocab.strings[match_id])]
            found.append((start, end, pattern["label"], pattern["key"]))
        # Deduplicate (two patterns may match the same span) and keep text order.
        seen: dict[tuple[int, int, str], Any] = {}
        for start, end, label, key in sorted(found, key=lambda m: (m[0], m[1])):
            seen.setdefault((start, end, label), key)
        return [(s, e, label, key) for (s, e, label), key in seen.items()]

    def docs(self, texts: list[str]) -> Iterable[Doc]:
        """Docs with whatever annotation the patterns need (just tokens, usually)."""
        if self.needs_pipeline:
            return self.nlp.pipe(texts, batch_size=self.batch_size)
        tokenizer: Any = self.nlp.tokenizer
        return tokenizer.pipe(texts, batch_size=self.batch_size)

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """Yield (score, task) per match: a copy of the task with that one span (or, with
        ``combine_matches``, one question per text with all its matches)."""
        for batch in batched(stream, self.batch_size):
            for task, doc in zip(batch, self.docs([t.get("text", "") for t in batch])):
                matches = self.matches(doc)
                if not matches and not self.all_examples:
                    continue
                base, tokens = question_base(task), tokens_of(doc)
                if self.combine_matches or not matches:
                    yield self._combined(base, doc, matches, tokens)
                    continue
                for start, end, label, key in matches:
                    score = self.score(key)
                    yield score, self._finish(span_question(base, doc, start, end, label, score, tokens, key), label)

    def _combined(self, base: dict[str, Any], doc: Doc, matches: list[tuple[int, int, str, Any]],
                  tokens: list[dict[str, Any]]) -> tuple[float, Task]:
        """One question with every match (the longest of overlapping ones, unless ``allow_overlap``)."""
        from spacy.tokens import Span

        if not self.allow_overlap:
            from spacy.util import filter_spans

            kept = {(s.start, s.end, s.label_) for s in filter_spans([Span(doc, s, e, label=la) for s, e, la, _ in matches])}
            matches = [m for m in matches if m[:3] in kept]
        score = max((self.score(key) for *_, key in matches), default=0.0)
        new = copy.deepcopy(base)
        new["spans"] = [{"start": doc[s:e].start_char, "end": doc[s:e].end_char, "token_start": s, "token_end": e - 1,
                         "label": label} for s, e, label, _ in matches]
        new["tokens"] = [dict(t) for t in tokens]
        meta = new.setdefault("meta", {})
        meta["score"] = score
        if matches:
            meta["pattern"] = [key for *_, key in matches]
        return score, self._finish(new, matches[0][2] if matches else None)  # type: ignore[arg-type]

    def _finish(self, task: Task, label: str | None) -> Task:
        """Apply ``label_span``, ``label_task`` and ``task_hash_keys``; the defaults leave the question as it is."""
        if self.label_span and not self.label_task and self.task_hash_keys is None:
            return set_hashes(task)
        if not self.label_span:
            for span in task.get("spans", []):
                span.pop("label", None)  # type: ignore[misc]
        if self.label_task and label is not None:
            task["label"] = label
        keys = {"task_keys": self.task_hash_keys} if self.task_hash_keys is not None else {}
        return set_hashes(task, overwrite=True, **keys)  # type: ignore[arg-type]

    def update(self, answers: list[Task]) -> None:
        """Count accepts and rejects per pattern from answered pattern questions."""
        for task in answers:
            keys = task.get("meta", {}).get("pattern")
            if keys is None or task.get("answer") not in ("accept", "reject"):
                continue
            for key in keys if isinstance(keys, list) else [keys]:
                counts = self.counts.setdefault(key, [0, 0])
                counts[0 if task["answer"] == "accept" else 1] += 1
        return None


def question_base(task: Task) -> dict[str, Any]:
    """What every question about ``task`` shares: the task minus spans, tokens and task hash."""
    base = {k: v for k, v in task.items() if k not in ("spans", "tokens", "_task_hash")}
    base["_input_hash"] = input_hash(task)
    return base


def span_question(
    base: dict[str, Any],
    doc: Doc,
    start: int,
    end: int,
    label: str,
    score: float,
    tokens: list[dict[str, Any]],
    pattern: Any = None,
) -> Task:
    """A copy of ``base`` asking about tokens ``start``..``end`` (exclusive) as ``label``."""
    new = copy.deepcopy(base)
    span = doc[start:end]
    new["spans"] = [{"start": span.start_char, "end": span.end_char, "token_start": start, "token_end": end - 1, "label": label}]
    new["tokens"] = [dict(t) for t in tokens]
    meta = new.setdefault("meta", {})
    meta["score"] = score
    if pattern is not None:
        meta["pattern"] = pattern
    return set_hashes(new)  # type: ignore[arg-type]
