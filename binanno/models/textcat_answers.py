"""Text-classification questions and answers, shared by every textcat backend.

Questions: one per (text, label), a deep copy of the task with ``label`` set and
``meta.score``, hashed on the label only (``set_hashes(task, task_keys=("label",))``), so
the model's question and a pattern's question about the same pair are the same question
(recipes/textcat.py's LabelPatterns hashes the same way).

Answers become targets per text, ``{label: 1.0 or 0.0}`` for what is known, derived from
the latest answer about each label of that text:

- accept A: A = 1. With ``exclusive``, every other label = 0 as well.
- reject A: A = 0. With ``exclusive`` and exactly two labels, the other label = 1 (a
  reject of one of two exclusive labels is an accept of the other); with more labels only
  A = 0 is known and the others stay unknown.
- ignore, or a label the model doesn't teach: nothing.

If an exclusive text has several accepted labels (the annotator changed their mind), the
latest accept wins. The memory keeps every answered text, so each update can replay a
sample of earlier texts: one batch of ten answers can't undo what the earlier ones taught.
"""

from __future__ import annotations

import copy
import random
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..components.preprocess import batched
from ..hashing import input_hash, set_hashes
from ..types import Task
from .patterns import PatternMatcher

if TYPE_CHECKING:
    from spacy.language import Language


def label_question(base: dict[str, Any], label: str, score: float) -> Task:
    """A copy of ``base`` (see ``question_base``) asking whether its text is ``label``."""
    task = copy.deepcopy(base)
    task["label"] = label
    task.setdefault("meta", {})["score"] = score
    return set_hashes(task, task_keys=("label",))  # type: ignore[arg-type]


class LabelMemory:
    """Every answered text with its latest answer per label; the targets derive from these."""

    def __init__(self, labels: list[str], exclusive: bool = False, seed: int = 0) -> None:
        self.labels = list(labels)
        self.exclusive = exclusive
        self.rng = random.Random(seed)
        self.texts: dict[int, str] = {}
        self.answers: dict[int, dict[str, str]] = {}  # insertion order = answer order
        self._keys: list[int] = []  # a list, so sampling is O(sample) not O(memory)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, answers: Iterable[Task]) -> list[int]:
        """Remember accepted and rejected answers about our labels; return the texts that changed."""
        labels, changed = set(self.labels), dict[int, None]()
        for task in answers:
            answer, label = task.get("answer"), task.get("label")
            if answer not in ("accept", "reject") or label not in labels or "text" not in task:
                continue
            key = input_hash(task)
            if key not in self.answers:
                self.answers[key] = {}
                self.texts[key] = task["text"]
                self._keys.append(key)
            mine = self.answers[key]
            mine.pop(label, None)  # re-insert, so the latest answer is last
            mine[label] = answer  # type: ignore[assignment]
            changed[key] = None
        return list(changed)

    def targets(self, key: int) -> dict[str, float]:
        """What the answers about one text say, per label (absent: unknown)."""
        answers = self.answers[key]
        if self.exclusive:
            accepted = [label for label, answer in answers.items() if answer == "accept"]
            if accepted:
                return {label: float(label == accepted[-1]) for label in self.labels}
            cats = {label: 0.0 for label in answers}
            if len(self.labels) == 2 and len(cats) == 1:
                cats.update({label: 1.0 for label in self.labels if label not in cats})
            return cats
        return {label: float(answer == "accept") for label, answer in answers.items()}

    def weights(self) -> dict[str, tuple[float, float]]:
        """(reject weight, accept weight) per label that make its accepts and rejects so far weigh the same.

        Rejects usually far outnumber accepts in active learning; unweighted, a model learns to
        say no to everything (its ranking can still be good: SMS spam, MiniLM, 200 answers, 16 %
        accepts: AUC 0.99 and F1 0 at the 0.5 threshold). Counts run over every remembered text.
        """
        return {label: ((neg + pos) / (2 * neg) if neg else 1.0, (neg + pos) / (2 * pos) if pos else 1.0)
                for label, (neg, pos) in self.counts().items()}

    def counts(self) -> dict[str, tuple[int, int]]:
        """(rejects, accepts) per label, as the targets of every remembered text say them."""
        counts = {label: [0, 0] for label in self.labels}
        for key in self._keys:
            for label, value in self.targets(key).items():
                if label in counts:
                    counts[label][int(value)] += 1
        return {label: (neg, pos) for label, (neg, pos) in counts.items()}

    def replay(self, fresh: list[int], n: int) -> list[int]:
        """Up to ``n`` earlier texts, at random, none of them in ``fresh``."""
        if n <= 0:
            return []
        exclude = set(fresh)
        sample = self.rng.sample(self._keys, min(len(self._keys), n + len(exclude)))
        return [k for k in sample if k not in exclude][:n]


def log_loss(scores: list[dict[str, float]], targets: list[dict[str, float]]) -> float:
    """Summed cross-entropy of the known targets under ``scores`` (clipped away from 0 and 1)."""
    import math

    total = 0.0
    for probs, cats in zip(scores, targets):
        for label, y in cats.items():
            p = min(max(probs.get(label, 0.5), 1e-7), 1 - 1e-7)
            total -= y * math.log(p) + (1 - y) * math.log(1 - p)
    return total


class WithPatterns:
    """A textcat model whose questions about a pattern match carry the match and ``meta.pattern``.

    The model still scores every (text, label); a question whose text a pattern of that
    label matches gets the first match as its highlighted span and ``meta.pattern``, which
    the sorters always pass through, so a label the model knows nothing about yet still
    gets asked about the texts its patterns find. Everything else is the wrapped model's.
    """

    def __init__(self, model: Any, patterns: PatternMatcher | Iterable[dict[str, Any]], nlp: Language | None = None) -> None:
        if not isinstance(patterns, PatternMatcher):
            if nlp is None:
                import spacy

                nlp = spacy.blank("en")
            patterns = PatternMatcher(nlp, patterns, labels=model.labels)
        self.model = model
        self.patterns = patterns

    def __getattr__(self, name: str) -> Any:
        # labels, predict, to_disk, settings...: whatever the wrapped model has.
        return getattr(self.model, name)

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """The model's (score, question) pairs, pattern matches marked."""
        for batch in batched(stream, self.patterns.batch_size):
            found: dict[tuple[int, str], dict[str, Any]] = {}
            for task, doc in zip(batch, self.patterns.docs([t.get("text", "") for t in batch])):
                key = input_hash(task)
                for start, end, label, pattern in self.patterns.matches(doc):
                    span = doc[start:end]
                    found.setdefault((key, label), {"start": span.start_char, "end": span.end_char,
                                                    "token_start": start, "token_end": end - 1,
                                                    "label": label, "pattern": pattern})
            for score, question in self.model(batch):
                match = found.get((question["_input_hash"], question["label"]))
                if match is not None:
                    question["meta"]["pattern"] = match["pattern"]
                    question["spans"] = [{k: v for k, v in match.items() if k != "pattern"}]  # type: ignore[misc]
                yield score, question

    def update(self, answers: list[Task]) -> float | None:
        """Count the patterns' accepts and rejects, then update the model."""
        self.patterns.update(answers)
        return self.model.update(answers)
