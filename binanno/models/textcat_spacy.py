"""A spaCy text classifier in the loop: ``doc.cats`` in, binary answers out.

Components: the pipeline's ``textcat`` (exclusive classes, softmax) or
``textcat_multilabel`` (independent labels, sigmoid); with both, the one that matches
``exclusive``. A pipeline without either, and ``blank:LANG``, gets a new one added
(``textcat`` with ``exclusive``, else ``textcat_multilabel``), initialized with the labels;
its other components are left as they are. A new component uses spaCy's bag-of-words
architecture by default (``architecture="bow"``: unigrams and bigrams, fast, and its output
layer can grow), or spaCy's default ensemble (``"ensemble"``).

Labels: a label the component doesn't have is added if its architecture can resize its
output layer (bag-of-words, reduce); spaCy's default ensemble can't, and asking for a new
label on it is a UserError. spaCy gives a new label's output a bias of -5000, which no
online update can undo; binanno sets it to 0, so in ``textcat_multilabel`` the new label
starts at 0.5 (other labels unchanged), and in an exclusive ``textcat`` it takes its share
of the softmax (the other labels' probabilities shrink). An exclusive ``textcat`` needs at
least two labels.

Learning (see textcat_answers for how answers become targets): an accept of A is
``cats = {A: 1.0}``, a reject ``{A: 0.0}``; in exclusive mode an accept sets every other
label of the component to 0. ``textcat_multilabel`` leaves labels absent from
``reference.cats`` out of its loss (its ``get_loss`` masks them). The exclusive ``textcat``
does not: it reads every absent label as 0.0, and a target of all zeros pushes a softmax
the wrong way (a rejected label with less than sum(p^2) of the mass goes *up*). So while it
updates, its loss is masked the same way: a reject of A only pushes A down, which through
the softmax moves that probability to the other labels, in proportion to their own.

Each update (``refit_epochs``, the default) makes ``refit_epochs`` passes over *all* the answers
so far, in steps of ``refit_batch`` texts, warm-started from the current weights: a refit, as the
sklearn backend's, at a cost that grows with the answers (blank:en bag-of-words, 500 answers,
2 passes: see bench/README.md "Text classification, third version"). With ``refit_epochs`` 0 an
update is one Adam step on the batch's texts plus ``replay`` earlier texts. The learning rate is
0.05 for a bag-of-words component and 0.001 for others (measured: see ``BOW_LEARN_RATE``).
``to_disk`` saves the whole pipeline; ``spacy.load(path)`` loads it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..components.preprocess import batched, required_components
from ..errors import UserError, warn_new_labels
from ..types import Task
from .patterns import question_base
from .textcat_answers import LabelMemory, label_question, log_loss

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

FACTORIES = ("textcat", "textcat_multilabel")

DEFAULTS: dict[str, Any] = {
    "architecture": "bow",  # for a new component: "bow" (TextCatBOW.v3) or "ensemble" (spaCy's default)
    "learn_rate": None,  # Adam; None: 0.05 for a bag-of-words component, 0.001 for any other (see below)
    "dropout": 0.0,
    "replay": 30,  # earlier texts replayed with each update (online steps only)
    "refit_epochs": 2,  # after every batch, passes over all answers so far from the current weights; 0: one online step
    "refit_batch": 32,  # texts per step of those passes
    "l2": 0.0,
    "grad_clip": 1.0,
    "batch_size": 16,  # texts scored at once: small, so questions come from a recent model (see textcat_sklearn)
    "seed": 0,
}

# Learning rates measured with textcat.simulate-style runs on SMS spam (400 decisions,
# uncertain first, F1 on 1,000 held-out texts), blank:en bag-of-words: 0.001 -> 0.37,
# 0.01 -> 0.76, 0.03 -> 0.84, 0.05 -> 0.87, 0.1 -> 0.87. A bag-of-words model is linear, and one small step
# per batch of answers barely moves it. spaCy's ensemble (a CNN too) got 0.78 at 0.001 and got worse at 0.01.
BOW_LEARN_RATE, OTHER_LEARN_RATE = 0.05, 0.001

BOW = {"@architectures": "spacy.TextCatBOW.v3", "ngram_size": 2, "no_output_layer": False, "length": 262144}


class SpacyTextcat:
    """Model protocol over a spaCy pipeline's text classifier; ``binanno.models.textcat.TextClassifier`` is this class.

    Prodigy's constructor: ``TextClassifier(nlp, label=["SPAM"])`` finds the pipeline's text
    classifier (or adds a new one) and adds the labels; no ``label`` means the component's own.
    :meth:`load` builds one from a pipeline name, a path or ``blank:LANG``.
    """

    def __init__(self, nlp: Language, label: str | Iterable[str] | None = None, name: str | None = None,
                 exclusive: bool = False, **settings: Any) -> None:
        labels = [label] if isinstance(label, str) else list(label or [])
        if name is None:
            name = ensure_textcat(nlp, labels, exclusive, settings.get("architecture", DEFAULTS["architecture"]), "the pipeline")
        labels = labels or list(nlp.get_pipe(name).labels)  # type: ignore[attr-defined]
        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. label=['SPAM'])")
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown SpacyTextcat setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        from thinc.api import Adam

        self.nlp = nlp
        self.labels = list(labels)
        self.name = name
        self.textcat: Any = nlp.get_pipe(name)
        self.exclusive = exclusive
        self.settings = {**DEFAULTS, **settings}
        if self.settings["learn_rate"] is None:
            architecture = nlp.config["components"][name].get("model", {}).get("@architectures", "")
            self.settings["learn_rate"] = BOW_LEARN_RATE if architecture.startswith("spacy.TextCatBOW") else OTHER_LEARN_RATE
        self.optimizer = Adam(self.settings["learn_rate"], L2=self.settings["l2"], grad_clip=self.settings["grad_clip"],
                              use_averages=False)
        self.memory = LabelMemory(self.labels, exclusive, seed=self.settings["seed"])
        # Update the textcat and whatever it listens to (a shared tok2vec); leave the rest alone.
        self.trained = required_components(nlp, [name])

    # Loading and saving -------------------------------------------------------------

    @classmethod
    def load(cls, spec: str, labels: list[str], exclusive: bool = False, **settings: Any) -> SpacyTextcat:
        """Load an installed pipeline, a path, or ``blank:LANG``; add a text classifier and labels as needed."""
        import spacy

        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. --label SPAM)")
        if exclusive and len(labels) < 2:
            raise UserError("--exclusive needs at least two labels (e.g. --label POSITIVE,NEGATIVE); "
                            "for one label leave --exclusive out")
        spacy.util.fix_random_seed(settings.get("seed", DEFAULTS["seed"]))
        if spec.startswith("blank:"):
            try:
                nlp = spacy.blank(spec.split(":", 1)[1])
            except (ImportError, KeyError, ValueError):
                raise UserError(f"Unknown language in '{spec}': use a language code such as blank:en") from None
        else:
            try:
                nlp = spacy.load(spec)
            except OSError:
                raise UserError(f"Can't find spaCy pipeline '{spec}': install it or pass a path or blank:en") from None
        name = ensure_textcat(nlp, labels, exclusive, settings.get("architecture", DEFAULTS["architecture"]), spec)
        return cls(nlp, labels, name, exclusive, **settings)

    def to_disk(self, path: str | Path) -> None:
        """Save the updated pipeline; ``spacy.load(path)`` loads it."""
        self.nlp.to_disk(path)

    # Scoring --------------------------------------------------------------------------

    def _cats(self, texts: list[str]) -> list[dict[str, float]]:
        disable = [n for n in self.nlp.pipe_names if n not in self.trained]
        docs = self.nlp.pipe(texts, disable=disable, batch_size=self.settings["batch_size"])
        return [{label: float(doc.cats.get(label, 0.0)) for label in self.labels} for doc in docs]

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """Yield (P(label), question) for every text and label."""
        for batch in batched(stream, self.settings["batch_size"]):
            for task, cats in zip(batch, self._cats([task.get("text", "") for task in batch])):
                base = question_base(task)
                for label in self.labels:
                    score = min(1.0, max(0.0, cats[label]))
                    yield score, label_question(base, label, score)

    def predict(self, texts: Iterable[str]) -> list[dict[str, float]]:
        """The probability of each label for each text, for evaluation."""
        out: list[dict[str, float]] = []
        for batch in batched(texts, 256):
            out.extend(self._cats(batch))
        return out

    # Learning -------------------------------------------------------------------------

    def example(self, key: int) -> Example:
        """The training Example for one remembered text."""
        from spacy.training import Example

        cats = self.memory.targets(key)
        if self.exclusive and 1.0 in cats.values():
            # Exactly one label is true: the component's other labels are false too.
            cats = {label: cats.get(label, 0.0) for label in self.textcat.labels}
        text = self.memory.texts[key]
        return Example.from_dict(self.nlp.make_doc(text), {"cats": cats})

    def update(self, answers: list[Task]) -> float | None:
        """Learn from a batch of answers plus a replay of earlier ones.

        Returns the summed log loss of the batch's answers under the model before it
        learned from them, or None if there was nothing to learn.
        """
        fresh = self.memory.add(answers)
        if not fresh:
            return None
        before = self.predict([self.memory.texts[k] for k in fresh])
        loss = log_loss(before, [self.memory.targets(k) for k in fresh])
        epochs = self.settings["refit_epochs"]
        if epochs:
            keys = list(self.memory.answers)
            order = random.Random(self.settings["seed"] + len(keys))
            steps = [chunk for _ in range(epochs) for chunk in batched(order.sample(keys, len(keys)), self.settings["refit_batch"])]
        else:
            steps = [fresh + self.memory.replay(fresh, self.settings["replay"])]
        exclude = [n for n in self.nlp.pipe_names if n not in self.trained]
        masked = self.nlp.get_pipe_meta(self.name).factory == "textcat"
        if masked:
            self.textcat.get_loss = masked_loss(self.textcat)  # see the module docstring
        try:
            for step in steps:
                examples = [self.example(k) for k in step]
                self.nlp.update(examples, sgd=self.optimizer, drop=self.settings["dropout"], exclude=exclude)
        finally:
            if masked:
                del self.textcat.get_loss
        return loss


def masked_loss(textcat: Any) -> Any:
    """A ``get_loss`` for ``textcat`` that leaves labels absent from ``reference.cats`` out, like textcat_multilabel's."""
    import numpy

    def get_loss(examples: Iterable[Example], scores: Any) -> tuple[float, Any]:
        examples = list(examples)
        truths = numpy.zeros((len(examples), len(textcat.labels)), dtype="f")
        known = numpy.zeros_like(truths)
        for i, eg in enumerate(examples):
            for j, label in enumerate(textcat.labels):
                if label in eg.reference.cats:
                    truths[i, j], known[i, j] = eg.reference.cats[label], 1.0
        d_scores = (scores - textcat.model.ops.asarray(truths)) * textcat.model.ops.asarray(known)
        return float((d_scores**2).sum() / max(1.0, float(known.sum()))), d_scores

    return get_loss


def infer_exclusive(nlp: Language, component: str = "textcat") -> bool:
    """Prodigy's ``infer_exclusive``: whether ``component`` holds mutually exclusive labels (spaCy's
    ``textcat`` factory, one label per text) rather than independent ones (``textcat_multilabel``)."""
    if component not in nlp.component_names:
        raise UserError(f"The pipeline has no component '{component}' (it has: {', '.join(nlp.component_names) or 'none'})")
    factory = nlp.get_pipe_meta(component).factory
    if factory not in FACTORIES:
        raise UserError(f"'{component}' is a '{factory}' component, not a text classifier ({' or '.join(FACTORIES)})")
    return factory == "textcat"


def ensure_textcat(nlp: Language, labels: list[str], exclusive: bool, architecture: str, spec: str) -> str:
    """The name of ``nlp``'s text classifier with ``labels`` added (the exclusive kind when asked),
    or of a new one when it has none."""
    names = [n for n in nlp.component_names if nlp.get_pipe_meta(n).factory in FACTORIES]
    if not names:
        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. --label SPAM)")
        return add_textcat(nlp, labels, exclusive, architecture)
    wanted = "textcat" if exclusive else "textcat_multilabel"
    name = next((n for n in names if nlp.get_pipe_meta(n).factory == wanted), names[0])
    if name in nlp.disabled:
        nlp.enable_pipe(name)
    add_labels(nlp.get_pipe(name), labels, name, spec)
    return name


def add_labels(textcat: Any, labels: list[str], name: str, spec: str) -> None:
    """Add the labels the component lacks, or say why it can't."""
    missing = [label for label in labels if label not in textcat.labels]
    if missing and not textcat.is_resizable:
        have = ", ".join(textcat.labels) or "none"
        raise UserError(f"The '{name}' component of '{spec}' can't add label(s) {', '.join(missing)} (its architecture "
                        f"has a fixed output size; it has: {have}): pick from its labels, or start from blank:LANG or sklearn")
    warn_new_labels(labels, list(textcat.labels), f"{spec}'s '{name}'")
    for label in missing:
        textcat.add_label(label)
    # spaCy starts a new output row of a trained model at a bias of -5000 (probability 0, and
    # out of reach of online updates); at 0 it starts unknown, with no weights, and can learn.
    layer = textcat.model.get_ref("output_layer") if missing and textcat.model.has_ref("output_layer") else None
    if layer is not None and layer.has_param("b"):
        bias = layer.get_param("b").copy()
        for label in missing:
            bias[textcat.labels.index(label)] = 0.0
        layer.set_param("b", bias)


def add_textcat(nlp: Language, labels: list[str], exclusive: bool, architecture: str) -> str:
    """Add and initialize a new text classifier with ``labels``; returns its name."""
    from spacy.training import Example

    if architecture not in ("bow", "ensemble"):
        raise UserError(f"architecture must be 'bow' or 'ensemble', not {architecture!r}")
    factory = "textcat" if exclusive else "textcat_multilabel"
    config = {"model": {**BOW, "exclusive_classes": exclusive}} if architecture == "bow" else {}
    textcat: Any = nlp.add_pipe(factory, config=config)
    doc = nlp.make_doc("binanno")
    sample = [Example.from_dict(doc, {"cats": {label: float(i == 0) for i, label in enumerate(labels)}})]
    textcat.initialize(lambda: sample, nlp=nlp, labels=labels)
    return factory
