"""The update guard: updates shown to make the model worse on held-out answers are not served.

Online updates from partial answers can make a good model worse (on clean text the old loop
took a pretrained NER from F1 0.50 to 0.41 in 400 answers). The guard holds out one completely
annotated text in ``every`` (up to ``size`` texts; see ``hold`` for why only complete ones) and
never trains on them. After each update it compares the model being trained (the *learner*)
with the starting weights on them, text by text: a paired bootstrap over the held-out texts
gives the chance that the learner's F1 is below the start's.

- While that chance is under ``confidence`` the learner is served (``predict``, ``to_disk``:
  what is evaluated and saved), and its weights are kept as the latest good ones.
- Once the learner is shown worse, the latest good weights are served instead (the start's, if
  no update was good), and the learner keeps learning: the next questions still come from it.
  Shown worse ``patience`` updates in a row, it goes back to the good weights.

Measured against two other rules (bench/README.md, "NER from a start model that is already
good"). Serving the start *until* the learner is shown better (95 %) held every data set at its
start for most of an hour: the held-out texts are the complete answers the loop collected, and
the loop asks for those where the model was already sure, so on them the start looks as good as a
learner that is far better on test data (SEC filings: test F1 0.71 against the start's 0.10, not
shown better on 24 held-out sentences). The guard before this one compared the two held-out
scores as numbers and rolled back after two updates below the start: with a few dozen texts the
score moves by 0.05 between updates that change nothing, and one lucky start score undid 48
updates in a row on WNUT 17 (nothing learnt). Earlier, undoing every update that lowers the score
at all stopped learning, and serving the best-scoring copy chased the luckiest score.

Without held-out answers (yes/no questions only) there is nothing to test against: the learner
is served, unguarded. The answers themselves stay remembered, so later updates replay them.

The held-out score is an F1 over what the answers say: an accepted span the model predicts
is a true positive, one it misses a false negative, a rejected span it predicts a false
positive; a complete answer (every entity in the text) counts all of its spans and every
other predicted span. Held-out texts are shown to ``binanno train`` like every other answer:
only the in-loop model goes without them.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy

Key = tuple[int, int, str]
Answer = tuple[str, set[Key], set[Key], "set[Key] | None"]
RESAMPLES = 1000  # bootstrap resamples of the held-out texts per comparison (about 1 ms for 100 texts)


class Guarded(Protocol):
    """What the guard needs of a model: the learner's predictions, its held-out answers, weight snapshots."""

    def predict_current(self, texts: list[str]) -> list[list[Key]]: ...

    def heldout_answers(self, keys: list[int]) -> list[Answer]: ...

    def snapshot(self) -> Any: ...

    def restore(self, snapshot: Any) -> None: ...


def answer_counts(answers: list[Answer], predictions: list[list[Key]]) -> numpy.ndarray:
    """True positives, false positives and false negatives per answered text (one row each)."""
    rows = []
    for (_, accepted, rejected, complete), predicted in zip(answers, predictions):
        found = set(predicted)
        if complete is not None:
            rows.append((len(found & complete), len(found - complete), len(complete - found)))
        else:
            rows.append((len(found & accepted), len(found & rejected), len(accepted - found)))
    return numpy.array(rows, dtype=numpy.int64).reshape(-1, 3)


def _f1(counts: numpy.ndarray) -> numpy.ndarray:
    """F1 of summed (tp, fp, fn) along the last axis; 1.0 where there is nothing to count."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    denominator = 2 * tp + fp + fn
    return numpy.where(denominator == 0, 1.0, 2 * tp / numpy.maximum(denominator, 1))


def answer_f1(answers: list[Answer], predictions: list[list[Key]]) -> float:
    """The F1 of ``predictions`` against what the answers say (1.0 when they say nothing checkable)."""
    return float(_f1(answer_counts(answers, predictions).sum(axis=0)))


def paired_chances(new: numpy.ndarray, old: numpy.ndarray, rng: numpy.random.Generator,
                   resamples: int = RESAMPLES) -> tuple[float, float]:
    """The chances that ``new``'s F1 is above and below ``old``'s: a paired bootstrap over texts (rows)."""
    if not len(new) or numpy.array_equal(new, old):
        return 0.0, 0.0
    picks = rng.integers(0, len(new), size=(resamples, len(new)))
    difference = _f1(new[picks].sum(axis=1)) - _f1(old[picks].sum(axis=1))
    return float((difference > 0).mean()), float((difference < 0).mean())


class UpdateGuard:
    """Holds out a slice of the answered texts; serves the latest weights not shown worse than the start on them."""

    def __init__(self, every: int = 5, size: int = 100, confidence: float = 0.95, patience: int = 3, seed: int = 0) -> None:
        self.every, self.size = max(0, int(every)), max(0, int(size))
        self.confidence, self.patience = float(confidence), max(1, int(patience))
        self.keys: list[int] = []
        self._set: set[int] = set()
        self._seen = 0
        self._rescore = False
        self._rng = numpy.random.default_rng(seed)
        self._start: Any = None  # the starting weights
        self._start_counts = numpy.zeros((0, 3), dtype=numpy.int64)  # their counts on the held-out texts
        self._good: Any = None  # the latest weights not shown worse than the start (the start itself at first)
        self.served: Any = None  # the weights to predict and save with, or None for the learner's own
        self.chances = (0.0, 0.0)  # after the last update: the chances that the learner is better, worse
        self._worse = 0  # updates in a row after which the learner was shown worse
        self.kept = 0  # updates whose weights were kept as the latest good ones
        self.undone = 0  # times the learner went back to the good weights

    @property
    def serving(self) -> str:
        """Which weights are served: "learner", "start" or "earlier" (an earlier learner's)."""
        return "learner" if self.served is None else "start" if self.served is self._start else "earlier"

    def describe(self) -> str:
        """What the served weights are, for a user: "the updated model", or why not."""
        if self.served is None:
            return "the updated model"
        why = f"the latest updates scored worse than the start on the {len(self.keys)} held-out sentences"
        return f"the starting model ({why})" if self.served is self._start else f"the model of an earlier update ({why})"

    def hold(self, key: int, complete: bool) -> bool:
        """Whether a newly answered text is held out: every ``every``-th complete one, up to ``size``.

        Only complete answers (a sentence annotated, corrected or verified whole) are held out.
        Held-out yes/no answers measured the wrong thing: they reward a model that proposes less
        (most are rejects) and say nothing about entities nobody asked about. With them, the guard
        took BTC from F1 0.497 to 0.256 after 1,000 random-order decisions and from 0.428 to 0.341
        for ner.teach's order (seed 0), and WNUT 17 still lost recall (0.19 -> 0.08).
        """
        if not complete:
            return False
        self._seen += 1
        if not self.every or len(self.keys) >= self.size or self._seen % self.every:
            return False
        self.keys.append(key)
        self._set.add(key)
        self._rescore = True
        return True

    def held(self, key: int) -> bool:
        """Whether ``key`` is held out (and so never trained on)."""
        return key in self._set

    def changed(self, key: int) -> None:
        """Note that the answers on ``key`` changed: the start and the good weights must be scored again."""
        if key in self._set:
            self._rescore = True

    def counts(self, model: Guarded, weights: Any = None) -> numpy.ndarray:
        """Per held-out text (tp, fp, fn) of the learner, or of ``weights`` put in for the moment."""
        answers = model.heldout_answers(self.keys)
        if weights is None:
            return answer_counts(answers, model.predict_current([a[0] for a in answers]))
        current = model.snapshot()
        model.restore(weights)
        try:
            return answer_counts(answers, model.predict_current([a[0] for a in answers]))
        finally:
            model.restore(current)

    def score(self, model: Guarded) -> float:
        """The learner's F1 on the held-out answers."""
        return float(_f1(self.counts(model).sum(axis=0)))

    def step(self, model: Guarded, train: Callable[[], float]) -> float:
        """Run ``train`` (one update), then choose the weights served and whether the learner goes back."""
        if self._start is None:
            self._start = self._good = model.snapshot()
        loss = train()
        if not self.keys:
            return loss
        if self._rescore:  # the held-out answers changed: score the start (and the good weights) again
            self._start_counts = self.counts(model, self._start)
            if self._good is not self._start:
                _, worse = paired_chances(self.counts(model, self._good), self._start_counts, self._rng)
                if worse >= self.confidence:
                    self._good = self._start
            self._rescore = False
        self.chances = paired_chances(self.counts(model), self._start_counts, self._rng)
        if self.chances[1] < self.confidence:
            self._good, self.served, self._worse = model.snapshot(), None, 0
            self.kept += 1
            return loss
        self.served = self._good
        self._worse += 1
        if self._worse >= self.patience:
            model.restore(self._good)
            self.served, self._worse = None, 0
            self.undone += 1
        return loss


def served_name(model: Any) -> str:
    """What a model's ``to_disk`` saves, for the message after it: "the updated model", or what its guard serves."""
    guard = getattr(model, "guard", None)
    return guard.describe() if isinstance(guard, UpdateGuard) else "the updated model"
