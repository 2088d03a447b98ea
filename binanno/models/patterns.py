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
from ..hashing import INPUT_KEYS, hash_record, set_hashes
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
    ``(accepts + 1) / (answers + 2)``, which starts at 0.5 and is updated from answers
    to questions that carry ``meta.pattern``.
    """

    def __init__(
        self,
        nlp: Language,
        patterns: Iterable[dict[str, Any]],
        labels: Iterable[str] | None = None,
        phrase_matcher_attr: str = "ORTH",
        batch_size: int = 64,
    ) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = nlp
        self.batch_size = batch_size
        self.labels = list(labels) if labels is not None else None
        self.patterns: list[dict[str, Any]] = []
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr=phrase_matcher_attr)
        self.counts: dict[Any, list[int]] = {}  # pattern key -> [accepts, rejects]
        self.needs_pipeline = False
        for index, pattern in enumerate(patterns):
            problem = _check_pattern(pattern)
            if problem:
                raise UserError(f"pattern {index}: {problem}")
            if self.labels is not None and pattern["label"] not in self.labels:
                continue
            key = str(len(self.patterns))
            self.patterns.append({**pattern, "key": pattern.get("id", index)})
            if isinstance(pattern["pattern"], str):
                # Tokenize the phrase like the texts, so offsets and tokens agree.
                self.phrase_matcher.add(key, [nlp.make_doc(pattern["pattern"])])
            else:
                self.matcher.add(key, [pattern["pattern"]])
                attrs = {a.upper() for tok in pattern["pattern"] for a in tok}
                self.needs_pipeline |= bool(attrs - TOKENIZER_ATTRS)
        if phrase_matcher_attr.upper() not in TOKENIZER_ATTRS:
            self.needs_pipeline = True

    def __len__(self) -> int:
        return len(self.patterns)

    def score(self, key: Any) -> float:
        """The smoothed accept rate of the pattern with this key (0.5 before any answer)."""
        accepts, rejects = self.counts.get(key, (0, 0))
        return (accepts + 1) / (accepts + rejects + 2)

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
        """Yield (score, task) per match: a copy of the task with that one span."""
        for batch in batched(stream, self.batch_size):
            for task, doc in zip(batch, self.docs([t.get("text", "") for t in batch])):
                matches = self.matches(doc)
                if not matches:
                    continue
                base, tokens = question_base(task), tokens_of(doc)
                for start, end, label, key in matches:
                    score = self.score(key)
                    yield score, span_question(base, doc, start, end, label, score, tokens, key)

    def update(self, answers: list[Task]) -> None:
        """Count accepts and rejects per pattern from answered pattern questions."""
        for task in answers:
            key = task.get("meta", {}).get("pattern")
            if key is None or task.get("answer") not in ("accept", "reject"):
                continue
            counts = self.counts.setdefault(key, [0, 0])
            counts[0 if task["answer"] == "accept" else 1] += 1
        return None


def question_base(task: Task) -> dict[str, Any]:
    """What every question about ``task`` shares: the task minus spans, tokens and task hash."""
    base = {k: v for k, v in task.items() if k not in ("spans", "tokens", "_task_hash")}
    if "_input_hash" not in base:
        base["_input_hash"] = hash_record({k: base[k] for k in INPUT_KEYS if k in base})
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
