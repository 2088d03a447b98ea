"""Answers in, merged gold per input out: what ``train`` and ``data-to-spacy`` learn from.

One ``Gold`` per input (its 128-bit ``hashing.input_key``: Prodigy's 32-bit ``_input_hash`` collides) holds what every answer on it says, per component:

- NER: an accepted ``_complete`` answer (ner.manual, ner.correct, a verify accept) gives all the
  text's entities, every other token "O"; yes/no answers give accepted spans (other tokens
  unknown) and rejected spans (known wrong). A complete version wins over yes/no answers. A
  label-choice or boundary-fix card (binanno.learning.choices) counts as yes/no answers: the
  chosen option's span accepted, the other options' rejected.
- textcat: a yes/no ``label`` answer makes that label true (accept) or false (reject), other
  labels unknown; a ``choice`` answer makes its chosen ``accept`` ids true and its other
  ``options`` false. The categories are exclusive when every answer is a choice of exactly one.
- spancat: an accepted answer's ``spans`` are all the text's spans (spans.manual).

Conflicting answers (several sessions, or one session changing its mind) are resolved the
same way everywhere: the latest answer (``_timestamp``, then storage order) wins, per span for
yes/no NER, per label for textcat, per text for complete versions. ``conflicts`` counts the
texts where that happened, per component.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from .errors import UserError
from .hashing import input_key
from .learning.choices import as_binary, is_choice
from .types import Task

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

COMPONENTS = ("ner", "textcat", "spancat")
NEG_KEY = "incorrect_spans"  # the NER's incorrect_spans_key: rejected spans, known to be wrong
SPANS_KEY = "sc"  # spaCy's span categorizer's default spans_key
Key = tuple[int, int, str]  # character start, end, label


@dataclass
class Gold:
    """Everything the answers say about one input, merged."""

    text: str
    tokens: list[dict[str, Any]] | None = None
    ner_complete: list[Key] | None = None
    ner_accepted: dict[Key, None] = field(default_factory=dict)  # ordered sets
    ner_rejected: dict[Key, None] = field(default_factory=dict)
    cats: dict[str, float] = field(default_factory=dict)
    spans: list[Key] | None = None

    def has(self, component: str) -> bool:
        """Whether any answer on this input teaches ``component``."""
        if component == "ner":
            return self.ner_complete is not None or bool(self.ner_accepted or self.ner_rejected)
        if component == "textcat":
            return bool(self.cats)
        return self.spans is not None


@dataclass
class Corpus:
    """Merged gold for a set of datasets; ``labels`` (if given) keeps only those labels."""

    labels: set[str] | None = None
    gold: dict[str, Gold] = field(default_factory=dict)
    conflicts: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # usable answers per component
    misaligned: int = 0  # spans that don't fall on token boundaries: left out (or missing)
    _choices: Counter[str] = field(default_factory=Counter)  # textcat answers: binary / single / multi

    @property
    def exclusive(self) -> bool:
        """Whether the textcat answers are all choices of exactly one option."""
        return self._choices["single"] > 0 and self._choices["single"] == sum(self._choices.values())

    def components(self) -> list[str]:
        """The spaCy pipe names to train: ``ner``, ``textcat`` or ``textcat_multilabel``, ``spancat``."""
        names = [c for c in COMPONENTS if self.answers[c]]
        return [self.textcat_name if c == "textcat" else c for c in names]

    @property
    def textcat_name(self) -> str:
        return "textcat" if self.exclusive else "textcat_multilabel"

    def add(self, component: str, answers: Iterable[Task]) -> int:
        """Merge answers for ``component``, the latest last; returns how many were usable."""
        # Oldest first, so that the latest answer is merged last and wins.
        ordered = sorted(enumerate(answers), key=lambda p: (p[1].get("_timestamp") or 0, p[0]))
        used = 0
        for _, task in ordered:
            if task.get("answer") not in ("accept", "reject") or not isinstance(task.get("text"), str):
                continue
            key = input_key(task)
            gold = self.gold.get(key) or Gold(task["text"])
            merge = {"ner": self._add_ner, "textcat": self._add_textcat, "spancat": self._add_spancat}[component]
            if merge(gold, task, key):
                used += 1
                self.gold[key] = gold
                if gold.tokens is None and task.get("tokens"):
                    gold.tokens = task["tokens"]
        self.answers[component] += used
        return used

    def _keys(self, task: Task) -> list[Key]:
        return [(s["start"], s["end"], s["label"]) for s in task.get("spans") or []
                if s.get("label") and (self.labels is None or s["label"] in self.labels)]

    def _add_ner(self, gold: Gold, task: Task, key: str) -> bool:
        if is_choice(task):  # which label, which boundary: the chosen span accepted, the other options rejected
            return any([self._add_ner(gold, part, key) for part in as_binary(task)])
        keys = self._keys(task)
        if task.get("_complete"):  # type: ignore[misc]
            if task["answer"] != "accept":
                return False  # "not all of these are right": says nothing about which
            if gold.ner_complete is not None and set(gold.ner_complete) != set(keys):
                self.conflicts["ner"] += 1
            gold.ner_complete = keys
            return True
        # A rejected question with several spans says one of them is wrong, not which.
        if not keys or (task["answer"] == "reject" and len(keys) > 1):
            return False
        mine, other = (gold.ner_accepted, gold.ner_rejected) if task["answer"] == "accept" else (gold.ner_rejected, gold.ner_accepted)
        if any(k in other for k in keys):
            self.conflicts["ner"] += 1
        for k in keys:
            other.pop(k, None)
            mine[k] = None
        return True

    def _add_textcat(self, gold: Gold, task: Task, key: str) -> bool:
        fields: dict[str, Any] = dict(task)  # choice keys that Task doesn't declare
        if is_choice(task):
            return False  # a choice about an entity's label or boundary, not the text's categories
        options = fields.get("options")
        if isinstance(options, list):
            if task["answer"] != "accept":
                return False
            chosen = set(fields.get("accept") or [])
            cats = {str(o["id"]): 1.0 if o["id"] in chosen else 0.0 for o in options if isinstance(o, dict) and "id" in o}
            self._choices["single" if len(chosen) == 1 else "multi"] += 1
        elif task.get("label"):
            cats = {task["label"]: 1.0 if task["answer"] == "accept" else 0.0}
            self._choices["binary"] += 1
        else:
            return False
        cats = {k: v for k, v in cats.items() if self.labels is None or k in self.labels}
        if not cats:
            return False
        if any(gold.cats.get(k, v) != v for k, v in cats.items()):
            self.conflicts["textcat"] += 1
        gold.cats.update(cats)
        return True

    def _add_spancat(self, gold: Gold, task: Task, key: str) -> bool:
        if task["answer"] != "accept" or not isinstance(task.get("spans"), list):
            return False
        keys = self._keys(task)
        if gold.spans is not None and set(gold.spans) != set(keys):
            self.conflicts["spancat"] += 1
        gold.spans = keys
        return True

    def keys(self, component: str) -> list[str]:
        """Inputs with gold for ``component`` (``textcat_multilabel`` counts as textcat)."""
        kind = "textcat" if component.startswith("textcat") else component
        return [k for k, g in self.gold.items() if g.has(kind)]

    def label_set(self, component: str) -> list[str]:
        """Every label the merged answers use for ``component``."""
        labels: set[str] = set()
        for key in self.keys(component):
            g = self.gold[key]
            if component == "ner":
                labels.update(k[2] for k in [*(g.ner_complete or []), *g.ner_accepted, *g.ner_rejected])
            elif component == "spancat":
                labels.update(k[2] for k in g.spans or [])
            else:
                labels.update(g.cats)
        return sorted(labels)

    def doc(self, nlp: Language, key: str, unknown: Iterable[tuple[int, int]] = (),
            outside: Iterable[tuple[int, int]] = ()) -> Doc:
        """The reference Doc for one input: entities, rejected spans, categories and spans set.

        ``unknown`` character ranges are left missing (not "O") in a complete NER annotation;
        ``outside`` ranges are "O" in a yes/no-answered one, where no answer covers them.
        """
        from spacy.tokens import Doc
        from spacy.util import filter_spans

        g = self.gold[key]
        doc = nlp.make_doc(g.text)
        if g.tokens and "".join(t["text"] + (" " if t.get("ws") else "") for t in g.tokens) == g.text:
            # The annotator's own tokens: spans drawn on them always align.
            doc = Doc(nlp.vocab, words=[t["text"] for t in g.tokens], spaces=[bool(t.get("ws")) for t in g.tokens])
        if g.has("ner"):
            if g.ner_complete is not None:
                ents, misaligned = self._spans(doc, g.ner_complete)
                ents = filter_spans(ents)
                misaligned += [s for s in (doc.char_span(a, b, alignment_mode="expand") for a, b in unknown) if s is not None]
                taken = {i for s in ents for i in range(s.start, s.end)}
                # A complete entity we can't place on tokens: its tokens are unknown, not "O".
                missing = [s for s in misaligned if not taken.intersection(range(s.start, s.end))]
                doc.set_ents(ents, missing=missing, default="outside")
            else:
                ents = filter_spans(self._spans(doc, list(g.ner_accepted))[0])
                accepted = {(s.start_char, s.end_char, s.label_) for s in ents}
                negs = [s for s in self._spans(doc, list(g.ner_rejected))[0]
                        if (s.start_char, s.end_char, s.label_) not in accepted]
                answered = {i for s in [*ents, *negs] for i in range(s.start, s.end)}
                silver = [s for s in (doc.char_span(a, b) for a, b in outside)
                          if s is not None and not answered.intersection(range(s.start, s.end))]
                doc.set_ents(ents, outside=silver, default="missing")
                doc.spans[NEG_KEY] = negs
        if g.cats:
            doc.cats = dict(g.cats)
        if g.spans is not None:
            doc.spans[SPANS_KEY] = self._spans(doc, g.spans)[0]
        return doc

    def _spans(self, doc: Doc, keys: list[Key]) -> tuple[list[Any], list[Any]]:
        """Spans on ``doc`` for ``keys``, and the token-widened spans of those that don't align."""
        found, unknown = [], []
        for start, end, label in keys:
            span = doc.char_span(start, end, label=label)
            if span is None:
                self.misaligned += 1
                wider = doc.char_span(start, end, alignment_mode="expand")
                if wider is not None:
                    unknown.append(wider)
            else:
                found.append(span)
        return found, unknown


def read_corpus(db: Any, datasets: dict[str, list[str]], labels: list[str] | None = None) -> Corpus:
    """Merge the answers of ``{component: [datasets]}``; every dataset must teach something.

    An unknown dataset, or one without an answer its component can use, is a UserError.
    """
    corpus = Corpus(set(labels) if labels else None)
    for component, names in datasets.items():
        answers: list[Task] = []
        for name in names:
            found = list(db.get_answers(name))
            answers += found
            if not Corpus(corpus.labels).add(component, found):
                what = {"ner": "an accepted or rejected span (or an accepted _complete task)",
                        "textcat": "an accepted or rejected 'label', or an accepted choice of 'options'",
                        "spancat": "an accepted task with 'spans'"}[component]
                only = f" with one of the labels {', '.join(sorted(corpus.labels))}" if corpus.labels else ""
                raise UserError(f"Dataset '{name}' has no answers to train --{component} from: it needs {what}{only}")
        # All of a component's datasets at once, so that the latest answer wins across datasets too.
        corpus.add(component, answers)
        if not corpus.label_set(component) and corpus.labels:
            raise UserError(f"The answers for --{component} use none of the labels {', '.join(sorted(corpus.labels))}: "
                            "check --label")
        if not corpus.label_set(component):
            raise UserError(f"The answers for --{component} have no labels: annotate some spans or labels first")
    return corpus


def read_eval_corpus(db: Any, names: list[str], components: list[str], labels: list[str] | None = None) -> Corpus:
    """The ``--eval`` datasets, read for each component being trained that they have answers for.

    Span answers go to ``spancat`` when they come from spans.manual (the answer's ``_view_id``
    or the dataset's) or when no NER is trained, else to ``ner``.
    """
    corpus = Corpus(set(labels) if labels else None)
    kinds = {"textcat" if c.startswith("textcat") else c for c in components}
    for name in names:
        answers = list(db.get_answers(name))
        view_id = db.meta(name).get("view_id")
        used = 0
        if "textcat" in kinds:
            used += corpus.add("textcat", answers)
        spancat = [a for a in answers if "spancat" in kinds
                   and ((a.get("_view_id") or view_id) == "spans_manual" or "ner" not in kinds)]
        if spancat:
            used += corpus.add("spancat", spancat)
        if "ner" in kinds:
            taken = {id(a) for a in spancat}
            used += corpus.add("ner", [a for a in answers if id(a) not in taken])
        if not used:
            raise UserError(f"Evaluation dataset '{name}' has no answers for {', '.join(components)}: pass datasets "
                            "answered for the components you train")
    return corpus


def split(keys: list[str], eval_split: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, held out) inputs: a seeded shuffle, ``eval_split`` of them held out (at least one
    when the share is above 0 and there are two inputs or more)."""
    keys = sorted(keys)
    random.Random(seed).shuffle(keys)
    n_eval = 0
    if eval_split > 0 and len(keys) > 1:
        n_eval = min(max(1, int(round(len(keys) * eval_split))), len(keys) - 1)
    return keys[n_eval:], keys[:n_eval]


def held_out(corpus: Corpus, eval_corpus: Corpus | None, eval_split: float, seed: int) -> tuple[list[str], list[str], Corpus]:
    """(train inputs, held-out inputs, the corpus they are scored on): ``eval_corpus`` if given,
    the texts it shares with ``corpus`` left out of training, else a split of ``corpus``."""
    if eval_corpus is None:
        return (*split(list(corpus.gold), eval_split, seed), corpus)
    train = [k for k in corpus.gold if k not in eval_corpus.gold]
    if not train:
        raise UserError("Every text answered for training is in the --eval datasets too: evaluate on other datasets")
    return train, list(eval_corpus.gold), eval_corpus
