"""Which question to ask about each sentence: one span yes/no, a choice about one span, verify or correct it all.

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
  annotation, a reject teaches nothing by itself. It finds no errors, so ``auto`` never picks
  it; verify cards serve as *anchors* (``anchors``: that share of the sentences, the surest by
  rank among the last ``window`` scored, asked first), complete gold that keeps the model honest.
- ``label`` and ``boundary`` (binanno.learning.choices): a choice card about one span, its labels
  or its alternative boundaries as options; one answer settles every option, so it finds the sum
  of min(q, 1 - q) over its options, for ``decision`` plus ``option`` seconds per option.

``auto`` asks, per sentence, whichever of these reveals more errors per second: one correct
card, or questions about single spans (a choice card where it beats a yes/no about its most
uncertain option, yes/no about every other candidate); the sorter ranks questions by that rate. Calibration and the miss rate are refitted from the answers (``observe``): a
model's scores near 0.5 are not where it is unsure (issue 10: 16 % of BTC candidates scored
0.4-0.6 were right, 59 % of those scored 0.95 or more), and a corrected sentence shows every
candidate's truth and every entity the model missed.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict, deque
from typing import Any, Iterable, Iterator

from ..components.preprocess import tokens_of
from ..errors import UserError
from ..hashing import input_hash, set_hashes
from ..types import Task
from .choices import BOUNDARY, LABEL, as_binary, boundary_card, boundary_groups, is_choice, label_card, label_groups
from .costs import Costs

MODES = ("auto", "binary", "verify", "correct", LABEL, BOUNDARY)
ANCHOR_PRIORITY = 1.0  # above any rate a question can have (errors per second stay below 0.5): anchors are asked
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
                 miss_weight: int = 200, anchors: float = 0.0, floor: float = 0.05, window: int = 64) -> None:
        if mode not in MODES:
            raise UserError(f"Unknown question type '{mode}': use one of {', '.join(MODES)}")
        if not hasattr(model, "score_sentences") and (mode != "binary" or anchors):
            raise UserError(f"--question {mode} (and --anchors) needs a spaCy NER model; this model asks binary questions only")
        if not 0 <= anchors < 1:
            raise UserError(f"--anchors is a share of the questions, from 0 to below 1, not {anchors}")
        self.model, self.mode, self.costs = model, mode, costs or Costs()
        self.calibration = Calibration()
        # Entities the model never proposed, per token: a prior worth ``miss_weight`` tokens, then measured.
        self.missed, self.tokens = miss_prior * miss_weight, float(miss_weight)
        self._asked: OrderedDict[int, tuple[dict[CharKey, float], int]] = OrderedDict()
        self.asked: dict[str, int] = {m: 0 for m in MODES if m != "auto"}
        # Anchors: verify cards on the surest sentences, ranked among the last ``window`` scored.
        self.anchors, self.floor = anchors, floor  # floor: the least P(right) an option of a choice card has
        self._confidence: deque[float] = deque(maxlen=window)
        self._recent: deque[bool] = deque(maxlen=window)  # which of them were anchors
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._anchored: OrderedDict[int, None] = OrderedDict()

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
            if self._is_anchor(input_hash(task), cal, n):
                question = self._sentence(task, doc, cal, "verify")
                question["_anchor"] = True  # type: ignore[typeddict-unknown-key]
                self._remember(question, doc, probs)
                yield ANCHOR_PRIORITY, question
                continue
            expected = sum(min(q, 1 - q) for q in cal.values()) + self.miss_rate * n
            sentence_rate = expected / self.costs.correct(n, expected)
            if self.mode in ("verify", "correct"):
                question = self._sentence(task, doc, cal, self.mode)
                self._remember(question, doc, probs)
                yield (sentence_rate if self.mode == "correct" else expected / self.costs.verify(n)), question
                continue
            kinds = {"binary", LABEL, BOUNDARY} if self.mode == "auto" else {self.mode}
            spans = self._span_questions(task, doc, probs, cal, matches, kinds)
            if self.mode == "auto" and (not spans or max(rate for rate, _ in spans) <= sentence_rate):
                question = self._sentence(task, doc, cal, "correct")
                self._remember(question, doc, probs)
                yield sentence_rate, question
                continue
            yield from spans

    def _is_anchor(self, key: int, cal: dict, n: int) -> bool:
        """Whether a sentence is among the surest ``anchors`` share of the last ``window`` scored ones.

        Ranked, not thresholded: after calibration few sentences clear a fixed P(all right)
        (on WNUT 17 a threshold asked 6 verify cards in 700 questions). A sentence scored again
        after an update stays what it was, so rescoring doesn't count it twice.
        """
        if not self.anchors:
            return False
        if key in self._anchored or key in self._seen:
            return key in self._anchored
        self._seen[key] = None
        if len(self._seen) > 20000:
            self._seen.popitem(last=False)
        # P(the model's analysis is exactly right): every candidate as predicted, and no entity missed.
        sure = math.prod(max(q, 1 - q) for q in cal.values()) * (1 - self.miss_rate) ** n
        above = sum(c > sure for c in self._confidence)
        self._confidence.append(sure)
        # Among the surest share of the window, widened by the anchors it is short of (at most twice the
        # share), and no more anchors than that share: ties at the top are common (sentences without candidates).
        quota, made = self.anchors * len(self._confidence), sum(self._recent)
        anchor = len(self._confidence) >= 10 and made < quota and above < 2 * quota - made
        self._recent.append(anchor)
        if not anchor:
            return False
        self._anchored[key] = None
        if len(self._anchored) > 20000:
            self._anchored.popitem(last=False)
        return True

    def _span_questions(self, task: Task, doc: Any, probs: dict, cal: dict, matches: dict,
                        kinds: set[str]) -> list[tuple[float, Task]]:
        """Questions about single spans: choice cards where they find more errors per second than
        yes/no about their options would, yes/no about every candidate they leave (if ``binary`` is allowed)."""
        from ..models.patterns import question_base, span_question

        base, tokens = question_base(task), tokens_of(doc)
        errors = {k: min(q, 1 - q) for k, q in cal.items()}
        groups: list[tuple[float, set, Task]] = []
        if LABEL in kinds:
            for s, e, labels in label_groups(cal, self.floor):
                members = {(s, e, label) for label, _ in labels}
                card = label_card(base, doc, tokens, s, e, [(label, probs[(s, e, label)]) for label, _ in labels])
                groups.append((sum(errors[m] for m in members) / self.costs.choice(len(labels) + 1), members, card))
        if BOUNDARY in kinds:
            for label, spans in boundary_groups(cal, self.floor):
                members = {(s, e, label) for s, e, _ in spans}
                card = boundary_card(base, doc, tokens, label, [(s, e, probs[(s, e, label)]) for s, e, _ in spans])
                groups.append((sum(errors[m] for m in members) / self.costs.choice(len(spans) + 1), members, card))
        out: list[tuple[float, Task]] = []
        taken: set = set()
        for rate, members, card in sorted(groups, key=lambda g: -g[0]):
            if members & taken:
                continue
            if "binary" in kinds and rate <= max(errors[m] for m in members) / self.costs.decision:
                continue  # one yes/no about its most uncertain option teaches more per second
            taken |= members
            out.append((rate, card))
        if "binary" in kinds:
            for key in sorted(probs):
                if key not in taken:
                    question = span_question(base, doc, key[0], key[1], key[2], probs[key], tokens, matches.get(key))
                    question["_question"] = "binary"  # type: ignore[typeddict-unknown-key]
                    out.append((errors[key] / self.costs.decision, question))
        return out

    def _binary_priority(self, score: float) -> float:
        q = self.calibration(score)
        return min(q, 1 - q) / self.costs.decision

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
                for part in as_binary(task) if is_choice(task) else [task]:  # a choice card: one answer per option
                    score = (part.get("meta") or {}).get("score")
                    if isinstance(score, (int, float)) and len(part.get("spans", [])) == 1:
                        self.calibration.add(score, part["answer"] == "accept")
        self.calibration.fit()
