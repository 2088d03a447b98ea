"""Which question to ask about each sentence: one span yes/no, verify the whole sentence, or correct it.

A question is worth what it teaches per second of the annotator's time. What teaches a model
is finding where it is wrong, so each question is valued by the model errors it is expected to
reveal, divided by what it costs (binanno.learning.costs):

- ``binary``: one candidate span with calibrated probability q reveals an error with
  probability min(q, 1 - q), for ``decision`` seconds.
- ``correct``: the sentence pre-annotated with the model's best analysis (every candidate with
  q >= 0.5, no overlaps); the annotator fixes it, so every error in it is found, and the answer
  is a complete annotation. Expected errors: the sum of min(q, 1 - q) over the candidates plus
  the entities the model never proposed (a per-token miss rate, measured on corrected
  sentences). It costs reading the sentence plus the expected edits.
- ``verify``: the same pre-annotation, accepted or rejected as a whole; an accept is a complete
  annotation, a reject teaches nothing by itself.

``auto`` asks, per sentence, whichever of binary and correct reveals more errors per second
(binary questions for all its candidates, or one correct card), and the sorter ranks questions
by that rate. Calibration and the miss rate are refitted from the answers (``observe``): a
model's scores near 0.5 are not where it is unsure (issue 10: 16 % of BTC candidates scored
0.4-0.6 were right, 59 % of those scored 0.95 or more), and a corrected sentence shows every
candidate's truth and every entity the model missed.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from typing import Any, Iterable, Iterator

from ..components.preprocess import tokens_of
from ..errors import UserError
from ..hashing import set_hashes
from ..types import Task
from .costs import Costs

MODES = ("auto", "binary", "verify", "correct")
CharKey = tuple[int, int, str]


class Calibration:
    """P(right) from a model's score: logistic regression on the score's logit, fitted on answers.

    Identity until ``min_answers`` answers of both kinds have been seen.
    """

    def __init__(self, min_answers: int = 30, limit: int = 5000) -> None:
        self.min_answers, self.limit = min_answers, limit
        self.scores: list[float] = []
        self.truth: list[bool] = []
        self.coef: tuple[float, float] | None = None

    def add(self, score: float, right: bool) -> None:
        """One observation: a candidate with this score was (not) an entity."""
        self.scores.append(float(score))
        self.truth.append(bool(right))
        if len(self.scores) > self.limit:
            del self.scores[0], self.truth[0]

    def fit(self) -> None:
        """Refit on what was observed (cheap: two parameters, a few thousand points at most)."""
        if len(self.truth) < self.min_answers or all(self.truth) or not any(self.truth):
            return
        from sklearn.linear_model import LogisticRegression

        x = [[_logit(s)] for s in self.scores]
        fit = LogisticRegression(C=1.0).fit(x, self.truth)
        self.coef = (float(fit.coef_[0][0]), float(fit.intercept_[0]))

    def __call__(self, score: float) -> float:
        if self.coef is None:
            return score
        a, b = self.coef
        return 1.0 / (1.0 + math.exp(-(a * _logit(score) + b)))


def _logit(p: float) -> float:
    p = min(1 - 1e-4, max(1e-4, float(p)))
    return math.log(p / (1 - p))


class QuestionPlanner:
    """Turns a model's per-sentence scores into (priority, question) pairs of the chosen types.

    ``model`` needs ``score_sentences`` and ``candidate_scores`` (as SpacyNER has). Call
    :meth:`observe` with every batch of answers, before the model's own update.
    """

    def __init__(self, model: Any, mode: str = "auto", costs: Costs | None = None, miss_prior: float = 0.02,
                 miss_weight: int = 200) -> None:
        if mode not in MODES:
            raise UserError(f"Unknown question type '{mode}': use one of {', '.join(MODES)}")
        if not hasattr(model, "score_sentences") and mode != "binary":
            raise UserError(f"--question {mode} needs a spaCy NER model; this model asks binary questions only")
        self.model, self.mode, self.costs = model, mode, costs or Costs()
        self.calibration = Calibration()
        # Entities the model never proposed, per token: a prior worth ``miss_weight`` tokens, then measured.
        self.missed, self.tokens = miss_prior * miss_weight, float(miss_weight)
        self._asked: OrderedDict[int, tuple[dict[CharKey, float], int]] = OrderedDict()
        self.asked: dict[str, int] = {m: 0 for m in ("binary", "verify", "correct")}

    @property
    def miss_rate(self) -> float:
        return self.missed / self.tokens

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        if self.mode == "binary" and not hasattr(self.model, "score_sentences"):
            for score, task in self.model(stream):
                yield self._binary_priority(score), task
            return
        for task, doc, found, matches in self.model.score_sentences(stream):
            probs = self.model.candidate_scores(found, matches)
            cal = {k: self.calibration(p) for k, p in probs.items()}
            n = len(doc)
            if not n:
                continue
            expected = sum(min(q, 1 - q) for q in cal.values()) + self.miss_rate * n
            sentence_rate = expected / self.costs.correct(n, expected)
            best_binary = max((min(q, 1 - q) for q in cal.values()), default=0.0) / self.costs.decision
            kind = self.mode
            if kind == "auto":
                kind = "binary" if probs and best_binary > sentence_rate else "correct"
            if kind == "binary":
                yield from self._binary(task, doc, probs, cal, matches)
                continue
            question = self._sentence(task, doc, cal, kind)
            self._remember(question, doc, probs)
            rate = sentence_rate if kind == "correct" else expected / self.costs.verify(n)
            yield rate, question

    def _binary_priority(self, score: float) -> float:
        q = self.calibration(score)
        return min(q, 1 - q) / self.costs.decision

    def _binary(self, task: Task, doc: Any, probs: dict, cal: dict, matches: dict) -> Iterator[tuple[float, Task]]:
        from ..models.patterns import question_base, span_question

        base = question_base(task)
        tokens = tokens_of(doc)
        for key in sorted(probs):
            question = span_question(base, doc, key[0], key[1], key[2], probs[key], tokens, matches.get(key))
            question["_question"] = "binary"  # type: ignore[typeddict-unknown-key]
            yield min(cal[key], 1 - cal[key]) / self.costs.decision, question

    def _sentence(self, task: Task, doc: Any, cal: dict, kind: str) -> Task:
        """The sentence with the model's best analysis as its spans, marked complete if accepted."""
        from ..models.patterns import question_base

        chosen: list[tuple[int, int, str]] = []
        taken: set[int] = set()
        for key, q in sorted(cal.items(), key=lambda kv: -kv[1]):
            if q >= 0.5 and not taken.intersection(range(key[0], key[1])):
                chosen.append(key)
                taken.update(range(key[0], key[1]))
        new: dict[str, Any] = copy.deepcopy(question_base(task))
        new["tokens"] = tokens_of(doc)
        new["spans"] = [{"start": doc[s:e].start_char, "end": doc[s:e].end_char, "token_start": s, "token_end": e - 1,
                         "label": label} for s, e, label in sorted(chosen)]
        new["_question"] = kind
        new["_complete"] = True  # an accepted answer gives every entity of the text
        if kind == "correct":
            new["_view_id"] = "ner_manual"  # drawn for editing, whatever the recipe's own view
        meta = new.setdefault("meta", {})
        meta["score"] = round(math.prod(q if k in chosen else 1 - q for k, q in cal.items()), 4)  # P(all right)
        return set_hashes(new)  # type: ignore[arg-type]

    def _remember(self, question: Task, doc: Any, probs: dict) -> None:
        chars = {(doc[s:e].start_char, doc[s:e].end_char, label): p for (s, e, label), p in probs.items()}
        self._asked[question["_input_hash"]] = (chars, len(doc))
        while len(self._asked) > 10000:
            self._asked.popitem(last=False)

    def observe(self, answers: list[Task]) -> None:
        """Refit the calibration and the miss rate from a batch of answers."""
        for task in answers:
            kind = task.get("_question", "binary")  # type: ignore[misc]
            if kind in self.asked:
                self.asked[kind] += 1
            if task.get("answer") not in ("accept", "reject"):
                continue
            if task.get("_complete"):
                asked = self._asked.get(task.get("_input_hash", -1))
                if asked is None or task["answer"] != "accept":
                    continue
                candidates, n = asked
                gold = {(s["start"], s["end"], s["label"]) for s in task.get("spans", [])}
                for key, p in candidates.items():
                    self.calibration.add(p, key in gold)
                self.missed += len(gold - set(candidates))
                self.tokens += n
            else:
                score = (task.get("meta") or {}).get("score")
                if isinstance(score, (int, float)) and len(task.get("spans", [])) == 1:
                    self.calibration.add(score, task["answer"] == "accept")
        self.calibration.fit()
