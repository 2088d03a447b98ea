"""A text classifier from scratch: hashed n-grams and one logistic regression per label.

Features: word unigrams and bigrams (``ngram_range``) and character 2- to 4-grams within
word boundaries (``char_ngrams``; None for words only), hashed into ``n_features`` columns
by scikit-learn's HashingVectorizer. Measured on SMS spam (400 decisions, uncertain first,
F1 on 1,000 held-out texts, two seeds): 0.87 and 0.87 with character n-grams against 0.80
and 0.79 without; scoring is ~7,500 texts/s with them and ~40,000 without (one core).
Hashing is stateless: there is no vocabulary to fit, so the first text scores like the
thousandth, and saving the model means saving the classifiers alone.

Learning (``refit``, the default): after every batch each label's logistic regression is
fitted again on *all* its answers (liblinear, L2 with ``C``, on the feature columns the
answered texts use), which takes milliseconds for hundreds of answers. One online step per
batch, as before, learns much less from the same answers: SMS spam, pool-wide uncertainty
ranking, 3 seeds, F1 at 100 answers 0.90-0.92 refitted against 0.77 online (bench/README.md).
Until a label has both an accept and a reject there is nothing to refit on; it then learns
online, one ``SGDClassifier(loss="log_loss")`` ``partial_fit`` step per batch on the batch's
texts plus ``replay`` earlier ones, for ``epochs`` passes, which already ranks the texts least
like the rejected ones first. A saved model keeps its answers (``answers.jsonl``), so a loaded
one refits on those and the new ones; a label trained online and saved without answers goes
on learning online (a refit on this session's answers alone would forget what it knew), as
does every label with ``refit`` off. A label no answer has touched yet scores exactly 0.5.
Either way the answers of the rarer class are weighted up so that both classes weigh the
same (``balance``): in active learning rejects usually far outnumber accepts, and an
unweighted model would learn to say no.

The features of the last ``cache_size`` texts and of every answered text are kept (about 4 KB a
text, in binanno.models.features' FeatureStore), so that scoring a pool of texts again after each
update costs a sparse matrix product, not the n-gram extraction.

Exclusive labels are still independent binary classifiers (the answers are what make them
exclusive: see textcat_answers), so the scores of one text need not sum to 1.

Saved as a directory: ``binanno_textcat.json`` (backend, labels, settings),
``classifiers.joblib`` (a pickle: load only directories you trust) and ``answers.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from ..components.preprocess import batched
from ..errors import UserError
from ..types import Task
from .features import FeatureStore
from .patterns import question_base
from .textcat_answers import LabelMemory, label_question, log_loss

META_FILE = "binanno_textcat.json"
WEIGHTS_FILE = "classifiers.joblib"
ANSWERS_FILE = "answers.jsonl"  # the answers the classifiers were fitted on, so that a loaded model refits on them too

DEFAULTS: dict[str, Any] = {
    "n_features": 2**18,  # hashed feature columns; collisions are rare at this size
    "ngram_range": (1, 2),  # word n-grams
    "char_ngrams": (2, 4),  # character n-grams inside word boundaries too; None: words only (see below)
    "alpha": 1e-4,  # L2 regularization (and, with learning_rate "optimal", the step size)
    "learning_rate": "optimal",  # SGDClassifier's schedule
    "eta0": 0.01,  # initial step for the "constant", "invscaling" and "adaptive" schedules
    "epochs": 2,  # passes over each update's examples
    "replay": 50,  # earlier texts replayed with each update
    "balance": True,  # weigh accepts and rejects of each label equally
    "refit": True,  # fit each label again on all its answers after every batch (else one online step)
    "C": 1.0,  # inverse L2 strength of the refitted logistic regression (scikit-learn's default)
    "solver": "liblinear",  # scikit-learn's solver for the refit
    # liblinear penalises the intercept like a weight; at 10 the refit's solution is lbfgs's (an
    # unpenalised intercept: -2.03 against -2.03, 1.0 gave -1.75, SMS 500 answers), at a tenth of its
    # time (18 vs 204 ms). SMS spam, pool, 3 seeds: F1 at 50/100 0.834/0.920 against 0.818/0.913.
    "intercept_scaling": 10.0,
    "cache_size": 20000,  # texts whose features are kept for scoring them again
    # Texts scored at once, before any of their questions is asked: small, so that questions come
    # from a recent model. SMS spam, ema sorter, 3 seeds: uncertain reached random's 500-decision
    # F1 after 175-225 decisions with 16, 275-375 with 256; scoring 4,500 vs 8,000 questions/s.
    "batch_size": 16,
    "seed": 0,
}
# Settings that decide what a saved classifier's columns mean.
FEATURE_SETTINGS = ("n_features", "ngram_range", "char_ngrams")


class SklearnTextcat:
    """Model protocol over hashed n-grams and per-label SGD logistic regression. See :meth:`load`."""

    def __init__(self, labels: list[str], exclusive: bool = False, classifiers: dict[str, Any] | None = None,
                 **settings: Any) -> None:
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown sklearn setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. --label SPAM)")
        self.settings = {**DEFAULTS, **settings}
        self.labels = list(labels)
        self.exclusive = exclusive
        self.classifiers: dict[str, Any] = dict(classifiers or {})
        for label in self.labels:
            self.classifiers.setdefault(label, self._new_classifier())
        self.memory = LabelMemory(self.labels, exclusive, seed=self.settings["seed"])
        self.vectorizer = self._vectorizer()
        # Labels trained online before, with no answers saved, go on online: a refit would forget what they knew.
        self.online = {label for label, clf in self.classifiers.items() if is_fitted(clf) and hasattr(clf, "partial_fit")}
        # Answered texts stay pinned in the store: every refit uses them.
        self.store = FeatureStore(self.vectorizer.transform, self.settings["cache_size"])

    def _new_classifier(self) -> Any:
        from sklearn.linear_model import SGDClassifier

        s = self.settings
        return SGDClassifier(loss="log_loss", alpha=s["alpha"], learning_rate=s["learning_rate"], eta0=s["eta0"],
                             random_state=s["seed"])

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.pipeline import FeatureUnion

        s = self.settings
        words = HashingVectorizer(n_features=s["n_features"], ngram_range=tuple(s["ngram_range"]), alternate_sign=False)
        if not s["char_ngrams"]:
            return words
        chars = HashingVectorizer(n_features=s["n_features"], ngram_range=tuple(s["char_ngrams"]), analyzer="char_wb",
                                  alternate_sign=False)
        return FeatureUnion([("words", words), ("chars", chars)])

    # Loading and saving -------------------------------------------------------------

    @classmethod
    def load(cls, spec: str, labels: list[str], exclusive: bool = False, **settings: Any) -> SklearnTextcat:
        """``"sklearn"`` for a new model, or a directory saved by :meth:`to_disk` (``sklearn:PATH`` or PATH).

        Labels the saved model doesn't have start untrained (0.5); the saved feature
        settings are kept, since the classifiers' weights only mean something with them.
        """
        if spec == "sklearn":
            return cls(labels, exclusive, **settings)
        path = Path(spec.removeprefix("sklearn:"))
        meta = read_meta(path)
        if meta is None:
            raise UserError(f"No sklearn text classifier in '{path}': pass 'sklearn' for a new one, "
                            f"or a directory saved by textcat.teach --output")
        saved = {**meta.get("settings", {})}
        for key in FEATURE_SETTINGS:
            if key in settings and _plain(settings[key]) != _plain(saved.get(key)):
                raise UserError(f"'{path}' was trained with {key}={saved.get(key)!r}: leave the setting out or start a new model")
        import joblib

        classifiers = joblib.load(path / WEIGHTS_FILE)
        model = cls(labels, exclusive, classifiers, **{**saved, **settings})
        answers = path / ANSWERS_FILE
        if answers.is_file():  # the answers it was fitted on: refits go on from all of them
            rows = [json.loads(line) for line in answers.read_text(encoding="utf8").splitlines() if line.strip()]
            model.memory.add({"text": row["text"], "label": label, "answer": answer}  # type: ignore[misc]
                             for row in rows for label, answer in row["answers"].items())
            model.online -= {label for row in rows for label in row["answers"]}
            model.store.pinned.update(row["text"] for row in rows)
        return model

    def to_disk(self, path: str | Path) -> None:
        """Save the classifiers (all labels, also ones not asked about now) and settings to a directory."""
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.classifiers, path / WEIGHTS_FILE, compress=3)
        rows = [{"text": self.memory.texts[key], "answers": answers} for key, answers in self.memory.answers.items()]
        (path / ANSWERS_FILE).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf8")
        meta = {"backend": "sklearn", "labels": list(self.classifiers), "exclusive": self.exclusive,
                "settings": {k: _plain(v) for k, v in self.settings.items()}}
        (path / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf8")

    # Scoring --------------------------------------------------------------------------

    def scores(self, texts: list[str]) -> np.ndarray:
        """P(label) per text (rows) and label (columns, in ``labels`` order)."""
        from scipy.special import expit

        out = np.full((len(texts), len(self.labels)), 0.5)
        fitted = [(j, self.classifiers[label]) for j, label in enumerate(self.labels) if is_fitted(self.classifiers[label])]
        if fitted and texts:
            X = self.features(texts)
            for j, clf in fitted:
                out[:, j] = expit(clf.decision_function(X))
        return out

    def features(self, texts: list[str]) -> Any:
        """The hashed n-gram rows of ``texts`` (a CSR matrix), from the store where it has them."""
        return self.store.matrix(texts)

    @property
    def n_columns(self) -> int:
        """Feature columns: words, plus as many again for character n-grams."""
        return self.settings["n_features"] * (2 if self.settings["char_ngrams"] else 1)

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """Yield (P(label), question) for every text and label.

        A stream is scored ``batch_size`` texts at a time, so that its questions come from a
        recent model; a list (questions held ahead, scored again) at once: nothing can update
        the model while it is scored.
        """
        size = max(len(stream), 1) if isinstance(stream, list) else self.settings["batch_size"]
        for batch in batched(stream, size):
            probs = self.scores([task.get("text", "") for task in batch])
            for task, row in zip(batch, probs.tolist()):
                base = question_base(task)
                for label, score in zip(self.labels, row):
                    yield score, label_question(base, label, score)

    def question_scores(self, questions: list[Task]) -> list[float] | None:
        """P(label) for each (text, label) question, scored at once (None if one asks about another label)."""
        column = {label: j for j, label in enumerate(self.labels)}
        if any(q.get("label") not in column for q in questions):
            return None
        probs = self.scores([q.get("text", "") for q in questions])
        columns = np.fromiter((column[q["label"]] for q in questions), dtype=np.int64, count=len(questions))
        return probs[np.arange(len(questions)), columns].tolist()

    def predict(self, texts: Iterable[str]) -> list[dict[str, float]]:
        """The probability of each label for each text, for evaluation."""
        out: list[dict[str, float]] = []
        for batch in batched(texts, 1024):  # nothing waits on evaluation: big batches are faster
            out.extend(dict(zip(self.labels, row)) for row in self.scores(batch).tolist())
        return out

    # Learning -------------------------------------------------------------------------

    def update(self, answers: list[Task]) -> float | None:
        """Learn from a batch of answers plus a replay of earlier ones.

        Returns the summed log loss of the batch's answers under the model before it
        learned from them (how surprised it was), or None if there was nothing to learn.
        """
        fresh = self.memory.add(answers)
        if not fresh:
            return None
        texts = [self.memory.texts[k] for k in fresh]
        self.store.pinned.update(texts)
        loss = log_loss(self.predict(texts), [self.memory.targets(k) for k in fresh])
        balance = self.memory.weights() if self.settings["balance"] else {}
        online = self.labels
        if self.settings["refit"]:
            online = [label for label in self.labels if label in self.online or not self._refit(label, balance)]
        if online:  # only an online step replays earlier texts: a refit has seen every answer
            keys = fresh + self.memory.replay(fresh, self.settings["replay"])
            self._online_step(online, [self.memory.texts[k] for k in keys], [self.memory.targets(k) for k in keys], balance)
        return loss

    def _refit(self, label: str, balance: dict[str, tuple[float, float]]) -> bool:
        """Fit ``label`` again on every answer about it; False while it lacks an accept or a reject."""
        from sklearn.linear_model import LogisticRegression

        keys = [k for k in self.memory.answers if label in self.memory.answers[k]]
        y = np.array([self.memory.targets(k).get(label, 0.0) for k in keys], dtype=int)
        if len(set(y.tolist())) < 2:
            return False
        X = self.features([self.memory.texts[k] for k in keys])
        # Fit on the columns these texts use: the same solution, without a million-column problem.
        columns = np.unique(X.indices)
        negative, positive = balance.get(label, (1.0, 1.0))
        clf = LogisticRegression(C=self.settings["C"], solver=self.settings["solver"], max_iter=1000,
                                 intercept_scaling=self.settings["intercept_scaling"], random_state=self.settings["seed"])
        clf.fit(X[:, columns], y, sample_weight=np.where(y == 1, positive, negative))
        coef = np.zeros((1, self.n_columns))
        coef[0, columns] = clf.coef_[0]
        clf.coef_ = coef
        clf.n_features_in_ = self.n_columns
        self.classifiers[label] = clf
        return True

    def _online_step(self, labels: list[str], texts: list[str], targets: list[dict[str, float]],
                     balance: dict[str, tuple[float, float]]) -> None:
        """One ``partial_fit`` step per label on these texts (the batch plus a replay)."""
        X = self.features(texts)
        order = np.random.default_rng(self.settings["seed"] + len(self.memory))
        for label in labels:
            rows = [i for i, cats in enumerate(targets) if label in cats]
            if not rows:
                continue
            y = np.array([targets[i][label] for i in rows], dtype=int)
            negative, positive = balance.get(label, (1.0, 1.0))
            weights = np.where(y == 1, positive, negative)
            # Every epoch in one partial_fit call: each call costs ~10 ms whatever its size.
            perm = np.concatenate([order.permutation(len(rows)) for _ in range(self.settings["epochs"])])
            clf = self.classifiers[label]
            clf.partial_fit(X[np.array(rows)[perm]], y[perm], classes=[0, 1], sample_weight=weights[perm])


def is_fitted(clf: Any) -> bool:
    """Whether a classifier has seen any training example."""
    return hasattr(clf, "coef_")


def read_meta(path: Path) -> dict[str, Any] | None:
    """The saved sklearn model's metadata, or None if ``path`` is not such a directory."""
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("backend") == "sklearn" else None


def _plain(value: Any) -> Any:
    """JSON's view of a setting (tuples become lists), so saved and given values compare."""
    return list(value) if isinstance(value, tuple) else value
