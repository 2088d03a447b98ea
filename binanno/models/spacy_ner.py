"""A spaCy named entity recognizer in the loop: beam-search candidates in, binary answers out.

Scoring: the NER's beam search keeps ``beam_width`` analyses of each text; the probability
of an entity is the total probability of the analyses that contain it (spaCy's
``scored_ents``). Each candidate whose label is being taught becomes its own question.

spaCy's beam adds up the raw action scores (logits) of each analysis. A pipeline trained
greedily, like the en_core_web_* packages, was never trained to make those sums comparable,
and after a few online updates the sums can favour absurd analyses (one reject on
"Angela Merkel" and the beam puts a whole sentence in one PERSON, while greedy decoding is
unchanged). With ``beam_scores="normalized"`` (the default) each step's scores are first
turned into log-probabilities, so an analysis's score is its log-probability and the
entity probabilities are consistent with greedy decoding; ``"raw"`` is exactly
``ner.beam_parse``. Both end in ``ner.scored_ents``.

Learning: an accepted span is a gold entity with every other token *missing* (unknown,
not "O"); a rejected span is stored in the incorrect-spans group that spaCy's NER reads
as "not this entity". Answers on the same text are merged into one training example and
kept, so each update can replay a sample of earlier texts against forgetting.

Silver "O" (``outside_from_model``, on by default for a pretrained NER): with every unanswered token missing,
accepts alone teach the model to predict more entities and rejects alone (about 9 in 10
answers on tweets) to predict fewer, and nothing anchors the rest. So the tokens that the
model predicted as outside any entity when a text was first answered, and that no answer
covers, are trained as "O". Measured with a simulated annotator on BTC (tweets) and
en_core_web_sm, 1,000 answers, exact-span F1 on 500 dev tweets, start 0.17: without it F1
fell (0.15), with it and the old small steps it barely moved (0.19), with it and the
learning rate and replay below it rose (see the report in the repository's notes).
A new NER (``blank:LANG``) predicts no entities at first, so there it would teach "no
entities anywhere": it is off by default for a new NER.

Learning rate and replay: 0.001 for a pretrained NER, 0.003 for a new one, and 30 earlier
texts replayed with each update of 10 answers. A new NER at 0.001 had learnt almost nothing
from 400 fully annotated BTC sentences (F1 0.18); at 0.003 it reached 0.55 after 300. For
a pretrained NER a smaller rate (0.0002) kept it from getting worse only because it kept
it from learning anything.
Keeping what a pretrained NER knew (on by default for a pretrained NER): updates use spaCy's
beam objective over the analyses the answers allow (``update="beam"``), each step is pulled back
towards the starting weights (``anchor``), and a few unanswered texts labelled by the starting
model are rehearsed with each update (``rehearse``). With greedy updates alone, ner.teach's
default took WNUT 17 from F1 0.191 to 0.089 in 400 answers; with the three, seed 0 stayed at or
above the start on BTC, WNUT 17 and SEC filings (bench/README.md, "third version").

Labels: a label new to a pretrained NER gets zero-initialised output rows that spaCy marks
*unseen* (scored at the minimum), so adding it does not change existing labels' predictions
(tested). Updates on partial answers unmark some of those rows, but with zero weights the
new label rarely wins until answers have taught it: patterns are how it gets its first
questions.

Patterns: pass ``patterns=PatternMatcher(...)``. Matches are mixed into the candidates of
the same text; a match the beam also proposed is one question (the model's score, with
``meta.pattern`` set), a match the beam missed gets the pattern's own accept rate as its
score. Every match carries ``meta.pattern``, which the sorters always pass through, so a
low model score (as for a new label) can't starve them.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..components.preprocess import batched, required_components, span_of, tokens_of
from ..errors import UserError, warn_new_labels
from ..hashing import input_hash, set_hashes
from ..learning.anchor import Anchor
from ..learning.average import WeightAverage
from ..learning.guard import UpdateGuard
from ..learning.refit import RefitSchedule
from ..learning.rehearsal import Rehearsal
from ..learning.trust import StartTrust, settled
from ..types import Task
from .patterns import PatternMatcher, question_base, span_question
from .pipelines import load_spacy

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc
    from spacy.training import Example

NEG_KEY = "incorrect_spans"

# Settings with their defaults; learn_rate None means 0.001 for a pretrained NER, 0.003 for a new one
# (see the module docstring for what was measured).
DEFAULTS: dict[str, Any] = {
    "beam_width": 16,  # analyses kept per text when scoring
    "beam_density": 0.0001,  # drop analyses below this fraction of the best one's probability
    "beam_scores": "normalized",  # or "raw": see the module docstring
    "batch_size": 32,  # texts scored per beam_parse call
    "learn_rate": None,
    "dropout": 0.2,
    "replay": 30,  # earlier texts replayed with each update
    "l2": 0.0,  # weight decay pulls a pretrained model towards zero, so it is off by default
    "grad_clip": 1.0,
    "pre_components": "auto",  # "auto", "all", or a list of component names run before the NER
    "outside_from_model": None,  # silver "O" (None: on for a pretrained NER only); see the module docstring
    "seed": 0,
    "warmup": None,  # accepted spans a new NER with patterns learns before its own candidates are asked (None: 50; 0 pretrained)
    "guard_every": 5,  # one completely annotated text in this many is held out to check updates on (0: no guard)
    "guard_size": 100,  # at most this many held-out texts; later texts are all trained on
    "guard_confidence": 0.95,  # bootstrap chance on the held-out texts that updates are better (served) or worse (undone)
    # Keeping what a pretrained NER knew (None: on for a pretrained NER, off for a new one; bench/README.md,
    # "NER learning loop, third version"): a new NER knows nothing to keep.
    "update": None,  # "greedy" or "beam": a global objective over the analyses the answers allow (see train_batch)
    "update_beam_width": 8,  # analyses kept per text by the beam update
    "anchor": None,  # share of the way back to the starting weights after each update (binanno.learning.anchor)
    "rehearse": None,  # unanswered texts labelled by the starting model mixed into each update (binanno.learning.rehearsal)
    "rehearse_confidence": 0.5,  # the starting model's entities kept for rehearsal: beam probability at least this
    "trust": None,  # scale anchor and rehearsal by the share of the starting model's sure entities the answers confirm (binanno.learning.trust)
    "refit": None,  # answered texts at the first refit from the starting weights, then at each doubling (0: none; None: 8 for a new NER, none for a pretrained one; binanno.learning.refit)
    "refit_epochs": 10,  # passes over every remembered text in a refit (as binanno train; 4 x 32 changed nothing measurable)
    "refit_batch": 8,  # remembered texts per step in a refit (rehearsal texts come on top)
    "refit_anchor": False,  # whether refit steps are pulled towards the starting weights too (rehearsal always is on)
    "refit_average": True,  # end a refit on the average of its steps' weights (thinc's use_averages), not its last step's (binanno.learning.refit)
    "average": 0.0,  # predict with a moving average of the online weights, this much old average per update (0: off; binanno.learning.average)
}

# What None means for a pretrained NER and for a new one.
KEEP = {"update": ("beam", "greedy"), "anchor": (0.05, 0.0), "rehearse": (20, 0), "trust": (True, False),
        # On for a new NER, which has nothing a refit could make it forget: online steps alone leave it far behind
        # `binanno train` on the same answers (SEC, 158 corrected sentences: F1 0.09 in the loop, 0.78 trained);
        # from 8 texts, not 32: SEC's first refit came after 20 annotator minutes (F1 0.000 there, 0.693 then).
        # Off for a pretrained NER: it lifts ner.teach's default on BTC and SEC at 20 minutes (bench/README.md,
        # "Refits for every NER"), but in the server a refit on hundreds of answers holds the worker for
        # seconds, the look-ahead runs dry, and a round trip waited 15 s (bench_latency.py --answers 1000).
        "refit": (0, 8)}

Key = tuple[int, int, str]  # character start, end, label
Silver = tuple[list[tuple[int, int, str]], list[int]]  # the starting model's sure entities (token offsets) and "O" tokens


@dataclass
class TextAnswers:
    """Everything answered about one text, merged; a later answer on a span wins."""

    text: str
    accepted: dict[Key, None] = field(default_factory=dict)  # an ordered set
    rejected: dict[Key, None] = field(default_factory=dict)
    complete: list[Key] | None = None
    outside: list[int] | None = None  # tokens safe to train as "O" (see ``silver_outside``)
    foreign: list[int] | None = None  # tokens the model gave a label we don't teach
    sure: list[Key] | None = None  # the starting model's sure entities (binanno.learning.trust)

    def add(self, task: Task, labels: set[str]) -> bool:
        """Merge one answered task; False if there was nothing to learn from it."""
        answer = task.get("answer")
        keys = [(s["start"], s["end"], s["label"]) for s in task.get("spans", []) if s.get("label") in labels]
        if task.get("_complete"):
            if answer != "accept":
                return False
            self.complete = keys
            return True
        # A rejected question with several spans says one of them is wrong, not which.
        if not keys or (answer == "reject" and len(keys) > 1) or answer not in ("accept", "reject"):
            return False
        for key in keys:
            mine, other = (self.accepted, self.rejected) if answer == "accept" else (self.rejected, self.accepted)
            other.pop(key, None)
            mine[key] = None
        return True


def _fully_annotated(example: Example) -> bool:
    """Whether every token of the example's reference has a known entity tag (none missing)."""
    return all(token.ent_iob_ for token in example.reference)


def ner_step(nlp: Language, ner_name: str, examples: list[Example], sgd: Any, drop: float, losses: dict[str, float],
             exclude: list[str], beam_width: int = 0) -> None:
    """One optimizer step of the NER ``ner_name`` on ``examples`` (the loop's update and ``binanno train``'s).

    With ``beam_width``, texts with missing tokens (yes/no answers) train with spaCy's beam objective
    (``Parser.update_beam``: probability moves to the analyses the answers allow), and a text whose
    every token is annotated with the oracle's local loss: it has one gold analysis, and that loss
    learned faster than the beam's there (SEC filings, sentences annotated by hand: F1 0.26 vs 0.19
    after 10, 0.58 vs 0.54 after 52; bench/README.md). Without it, or when the NER listens to a
    shared tok2vec (whose gradient only the whole pipeline's update passes on), spaCy's greedy update.
    """
    if beam_width and required_components(nlp, [ner_name]) == [ner_name]:
        full: list[Example] = []
        partial: list[Example] = []
        for eg in examples:
            (full if _fully_annotated(eg) else partial).append(eg)
        if full:
            nlp.update(full, sgd=sgd, drop=drop, losses=losses, exclude=exclude)
        if partial:
            ner: Any = nlp.get_pipe(ner_name)
            losses.setdefault(ner_name, 0.0)  # update_beam adds to it without creating it
            try:
                ner.update_beam(partial, beam_width=beam_width, drop=drop, sgd=sgd, losses=losses)
            except AssertionError:
                # thinc's Beam.advance asserts when no move is valid for a state (seen once in 9 runs of
                # binanno train on the loop's answers, SEC seed 2): this batch learns greedily instead.
                nlp.update(partial, sgd=sgd, drop=drop, losses=losses, exclude=exclude)
    else:
        nlp.update(examples, sgd=sgd, drop=drop, losses=losses, exclude=exclude)


def silver_outside(doc: Doc) -> list[int]:
    """Tokens predicted outside any entity that may be trained as "O": those that don't look like a name.

    Training every predicted "O" as gold teaches the model its own blind spots: on BTC 43.8 %
    of the gold-entity tokens in answered tweets were trained as "O" (mostly ``@username``
    mentions). Lower-case words, punctuation and numbers are names far less often; keeping
    only those cut that to 12.8 % and kept 77 % of the true "O" tokens (issue 10's
    measurement). Mentions and hashtags (``@``, ``#``) are lower-case names on social media.
    """
    return [
        t.i for t in doc
        if t.ent_iob_ == "O" and (t.is_lower or t.is_punct or t.like_num) and t.text[:1] not in ("@", "#")
    ]


def ensure_ner(nlp: Language, labels: list[str], source: str) -> tuple[str, bool]:
    """The name of ``nlp``'s NER with ``labels`` added (a new, initialized one if it has none),
    and whether it was there already (pretrained)."""
    from spacy.training import Example

    names = [n for n in nlp.component_names if nlp.get_pipe_meta(n).factory in ("ner", "beam_ner")]
    if names:
        if names[0] in nlp.disabled:
            nlp.enable_pipe(names[0])
        ner: Any = nlp.get_pipe(names[0])
        warn_new_labels(labels, list(ner.labels), f"{source}'s '{names[0]}'")
        for label in labels:
            ner.add_label(label)  # spaCy keeps old weights; new rows start unseen
        return names[0], True
    if not labels:
        raise UserError("No labels given: pass at least one label (e.g. --label PERSON,ORG)")
    ner = nlp.add_pipe("ner", config={"incorrect_spans_key": NEG_KEY})
    for label in labels:
        ner.add_label(label)
    sample = [Example(nlp.make_doc("binanno"), nlp.make_doc("binanno"))]
    ner.initialize(lambda: sample, nlp=nlp)
    return "ner", False


class SpacyNER:
    """Model protocol over a spaCy pipeline's NER; ``binanno.models.ner.EntityRecognizer`` is this class.

    Prodigy's constructor: ``EntityRecognizer(nlp, label=["PERSON"])`` finds the pipeline's NER (or
    adds a new one) and adds the labels; no ``label`` means the NER's own. :meth:`load` builds one
    from a pipeline name, a path or ``blank:LANG``.
    """

    def __init__(
        self,
        nlp: Language,
        label: str | Iterable[str] | None = None,
        ner_name: str | None = None,
        pretrained: bool | None = None,
        patterns: PatternMatcher | Iterable[dict[str, Any]] | None = None,
        **settings: Any,
    ) -> None:
        labels = [label] if isinstance(label, str) else list(label or [])
        if ner_name is None:
            ner_name, found = ensure_ner(nlp, labels, "the pipeline")
            pretrained = found if pretrained is None else pretrained
        labels = labels or list(nlp.get_pipe(ner_name).labels)  # type: ignore[attr-defined]
        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. label=['PERSON'])")
        pretrained = bool(pretrained)
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown SpacyNER setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        self.nlp = nlp
        self.labels = list(labels)
        self.ner_name = ner_name
        self.ner: Any = nlp.get_pipe(ner_name)  # spaCy's EntityRecognizer (a Cython class)
        self.settings = {**DEFAULTS, **settings}
        if self.settings["outside_from_model"] is None:
            self.settings["outside_from_model"] = pretrained
        for name, (old, new) in KEEP.items():
            if self.settings[name] is None:
                self.settings[name] = old if pretrained else new
        if self.settings["warmup"] is None:
            self.settings["warmup"] = 0 if pretrained else 50
        self.accepted = 0  # accepted spans learnt from, for the warm-up
        if self.settings["beam_scores"] not in ("normalized", "raw"):
            raise UserError(f"beam_scores must be 'normalized' or 'raw', not {self.settings['beam_scores']!r}")
        if self.settings["update"] not in ("greedy", "beam"):
            raise UserError(f"update must be 'greedy' or 'beam', not {self.settings['update']!r}")
        self.anchor = Anchor(self.settings["anchor"])
        self.rehearsal: Rehearsal[Silver] = Rehearsal(self.settings["rehearse"], seed=self.settings["seed"])
        self.refits = RefitSchedule(self.settings["refit"])
        try:
            self.average = WeightAverage(float(self.settings["average"]))
        except ValueError as e:
            raise UserError(str(e)) from None
        self.trust = StartTrust()
        self._origin: list[tuple[Any, str, Any]] | None = None  # the starting weights, for anchor and rehearsal
        self.pretrained = pretrained
        self.optimizer = self._new_optimizer()
        self.rng = random.Random(self.settings["seed"])
        self.memory: dict[int, TextAnswers] = {}
        self.guard = UpdateGuard(self.settings["guard_every"], self.settings["guard_size"],
                                 self.settings["guard_confidence"], seed=self.settings["seed"])
        self.misaligned: set[tuple[int, Key]] = set()  # answer spans that don't match our tokens
        self.unlearnable = 0  # examples spaCy found no valid moves for (left out of their update)
        self._memory_keys: list[int] = []
        self._set_neg_key()
        self.patterns = patterns  # type: ignore[assignment]  # the setter builds a matcher from dicts
        # Update the NER and whatever it listens to (a shared tok2vec); leave the rest alone.
        self.trained = required_components(nlp, [ner_name])

    @property
    def patterns(self) -> PatternMatcher | None:
        """The pattern matcher whose matches are mixed into the questions, if any."""
        return self._patterns

    @patterns.setter
    def patterns(self, patterns: PatternMatcher | Iterable[dict[str, Any]] | None) -> None:
        if patterns is not None and not isinstance(patterns, PatternMatcher):
            patterns = PatternMatcher(self.nlp, patterns, labels=self.labels)
        self._patterns = patterns
        # Patterns on tags or lemmas need the whole pipeline before the NER to run.
        self.pre = self._pre_components()

    # Loading and saving -------------------------------------------------------------

    @classmethod
    def load(
        cls, spec: str, labels: list[str], patterns: PatternMatcher | Iterable[dict[str, Any]] | None = None, **settings: Any
    ) -> SpacyNER:
        """Load an installed pipeline, a path, or ``blank:LANG``; add an NER and labels as needed.

        ``patterns`` is a PatternMatcher or a list of pattern dicts (see ``load_patterns``);
        ``settings`` override ``DEFAULTS``.
        """
        import spacy

        spacy.util.fix_random_seed(settings.get("seed", DEFAULTS["seed"]))
        nlp = load_spacy(spec)
        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. --label PERSON,ORG)")
        name, pretrained = ensure_ner(nlp, labels, spec)
        return cls(nlp, labels, name, pretrained, patterns=patterns, **settings)

    def to_disk(self, path: str | Path) -> None:
        """Save the updated pipeline, with the weights the update guard serves; ``spacy.load(path)`` loads it."""
        with self.served():
            self.nlp.to_disk(path)

    def _set_neg_key(self) -> None:
        # The NER reads the key from moves.cfg when it builds gold states; a loaded pipeline
        # restores moves.cfg from disk, so the component config alone is not enough.
        key = self.ner.moves.cfg.get("neg_key") or NEG_KEY
        self.ner.moves.cfg["neg_key"] = key
        self.ner.cfg["incorrect_spans_key"] = key
        self.nlp.config["components"][self.ner_name]["incorrect_spans_key"] = key
        self.neg_key: str = key

    def _new_optimizer(self, averages: bool = False) -> Any:
        from thinc.api import Adam

        lr = self.settings["learn_rate"] or (0.001 if self.pretrained else 0.003)
        return Adam(lr, L2=self.settings["l2"], grad_clip=self.settings["grad_clip"], use_averages=averages)

    def _take_averages(self) -> None:
        """Set every weight the optimizer kept an average of to that average, and stop averaging."""
        averages = self.optimizer.averages or {}
        self.restore([(node, name, averages[(node.id, name)]) for node, name, _ in self._weights() if (node.id, name) in averages])
        self.optimizer.averages = None

    def _pre_components(self) -> list[str]:
        """Components to run before the NER when scoring.

        "auto" runs only what changes the NER's input: the tok2vec it listens to, and
        components before it that set entities (an entity ruler) or norms. A tagger or parser
        would cost time without changing a single score. "all" runs everything before it.
        """
        before = self.nlp.pipe_names[: self.nlp.pipe_names.index(self.ner_name)]
        option = self.settings["pre_components"]
        if option == "all" or (self.patterns is not None and self.patterns.needs_pipeline):
            return before
        if isinstance(option, str) and option != "auto":
            raise UserError(f"pre_components must be 'auto', 'all' or a list of component names, not {option!r}")
        if option != "auto":
            missing = [n for n in option if n not in before]
            if missing:
                raise UserError(f"pre_components {missing} are not before the NER. Available: {', '.join(before)}.")
            return list(option)
        keep = set(required_components(self.nlp, [self.ner_name])) - {self.ner_name}
        for name in before:
            assigns = self.nlp.get_pipe_meta(name).assigns
            proc = self.nlp.get_pipe(name)
            sets_norm = any("NORM" in p.get("attrs", {}) for p in getattr(proc, "patterns", []) if isinstance(p, dict))
            if any(a.startswith(("doc.ents", "token.ent_", "token.norm")) for a in assigns) or sets_norm:
                keep.add(name)
        return [n for n in before if n in keep]

    # Scoring --------------------------------------------------------------------------

    def _docs(self, texts: list[str]) -> list[Doc]:
        if not self.pre:
            tokenizer: Any = self.nlp.tokenizer
            return list(tokenizer.pipe(texts, batch_size=len(texts)))
        disable = [n for n in self.nlp.pipe_names if n not in self.pre]
        return list(self.nlp.pipe(texts, disable=disable, batch_size=len(texts)))

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """Yield (P(accept), task) for every candidate entity with one of our labels."""
        for task, doc, found, matches in self.score_sentences(stream):
            if not found and not matches:
                continue
            base = question_base(task)
            tokens = tokens_of(doc)
            scores = self.candidate_scores(found, matches)
            for start, end, label in sorted(scores):
                score = scores[(start, end, label)]
                yield score, span_question(base, doc, start, end, label, score, tokens, matches.get((start, end, label)))

    def candidate_scores(self, found: dict[Key, float], matches: dict[Key, Any]) -> dict[Key, float]:
        """P(accept) per candidate: the beam's probability, or a pattern's accept rate where the beam missed it."""
        patterns = self.patterns
        return {
            key: min(1.0, max(0.0, float(found[key]))) if key in found
            else (patterns.score(matches[key]) if patterns is not None else 0.0)
            for key in found.keys() | matches.keys()
        }

    def score_sentences(self, stream: Iterable[Task]) -> Iterator[tuple[Task, Doc, dict[Key, float], dict[Key, Any]]]:
        """Per text: the task, its Doc, each candidate's probability and the pattern matches.

        Candidates and matches are keyed by (token start, token end exclusive, label), for our
        labels only. Sentence-level questions (binanno.learning.questions) are built on this.
        """
        width, density = self.settings["beam_width"], self.settings["beam_density"]
        labels, patterns = set(self.labels), self.patterns
        for batch in batched(stream, self.settings["batch_size"]):
            docs = self._docs([task.get("text", "") for task in batch])
            # Warm-up: a new NER's candidates are noise, so only pattern matches are asked at first.
            warming = patterns is not None and self.accepted < self.settings["warmup"]
            parsed = [doc for doc in docs if len(doc)] if not warming else []
            beams = self._beam_parse(parsed, width, density) if parsed else []
            scores = iter(self.ner.scored_ents(beams))
            for task, doc in zip(batch, docs):
                self.rehearsal.saw(doc.text)
                found = {k: p for k, p in next(scores).items() if k[2] in labels} if len(doc) and not warming else {}
                matches = {(s, e, label): key for s, e, label, key in patterns.matches(doc)} if patterns is not None else {}
                yield task, doc, found, matches

    def _beam_parse(self, docs: list[Doc], width: int, density: float) -> list[Any]:
        """``ner.beam_parse``, with each step's scores log-softmaxed unless beam_scores is "raw"."""
        if self.settings["beam_scores"] == "raw":
            return self.ner.beam_parse(docs, beam_width=width, beam_density=density)
        import numpy
        from spacy.pipeline._parser_internals._beam_utils import BeamBatch

        # The same loop as spaCy 3.8's Parser.beam_parse, plus the normalization.
        self.ner._ensure_labels_are_added(docs)
        batch = BeamBatch(self.ner.moves, self.ner.moves.init_batch(docs), None, width, density=density)
        model = self.ner.model.predict(docs)
        while not batch.is_done:
            states = batch.get_unfinished_states()
            if not states:
                break
            scores = model.predict(states)
            top = scores.max(axis=1, keepdims=True)
            log_z = top + numpy.log(numpy.exp(scores - top).sum(axis=1, keepdims=True))
            batch.advance(numpy.ascontiguousarray(scores - log_z, dtype="f"))
        model.clear_memory()
        return list(batch)

    def predict(self, texts: Iterable[str]) -> list[list[tuple[int, int, str]]]:
        """Greedy predictions (char start, end, label) for our labels, for evaluation: with the
        weights the update guard serves (binanno.learning.guard), as ``to_disk`` saves them."""
        with self.served():
            return self.predict_current(texts)

    @contextlib.contextmanager
    def served(self) -> Iterator[None]:
        """The weights the update guard serves, put in for the moment (the learner's are put back after)."""
        if self.guard.served is None:
            yield
            return
        current = self.snapshot()
        self.restore(self.guard.served)
        try:
            yield
        finally:
            self.restore(current)

    def predict_current(self, texts: Iterable[str]) -> list[list[tuple[int, int, str]]]:
        """``predict`` with the weights being trained (what the next questions come from)."""
        keep = set(self.pre) | {self.ner_name}
        disable = [n for n in self.nlp.pipe_names if n not in keep]
        labels = set(self.labels)
        return [
            [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in labels]
            for doc in self.nlp.pipe(texts, disable=disable, batch_size=self.settings["batch_size"])
        ]

    def make_best(self, examples: Iterable[Task], width: int = 16) -> Iterator[Task]:
        """Prodigy's ``make_best``: per answered text, the most probable analysis its answers allow.

        The answers on each text are merged (a complete answer is taken as it is); of the beam's
        analyses the most probable one that holds every accepted entity and no rejected one is
        kept. Where none does, the best analysis with its rejected entities removed and the
        accepted ones put in (they win an overlap). One task per text, in the order first answered.
        """
        from spacy.util import filter_spans

        labels, merged = set(self.labels), dict[int, TextAnswers]()
        for task in examples:
            if task.get("answer") in ("accept", "reject") and isinstance(task.get("text"), str):
                merged.setdefault(input_hash(task), TextAnswers(task["text"])).add(task, labels)
        for batch in batched(list(merged.values()), self.settings["batch_size"]):
            docs = self._docs([entry.text for entry in batch])
            beams = iter(self._beam_parse([d for d in docs if len(d)], width, 0.0) if any(len(d) for d in docs) else [])
            for entry, doc in zip(batch, docs):
                if entry.complete is not None or not len(doc):
                    keys, score = list(entry.complete or []), 1.0
                else:
                    keys, score = self._best_allowed(doc, next(beams), entry, labels)
                chars = [doc.char_span(s, e, label=label) for s, e, label in keys]
                spans = filter_spans([span for span in chars if span is not None])
                best: Task = {"text": entry.text, "tokens": tokens_of(doc), "meta": {"score": round(score, 4)},
                              "spans": [span_of(sp) for sp in spans]}
                yield set_hashes(best, overwrite=True)

    def _best_allowed(self, doc: Doc, beam: Any, entry: TextAnswers, labels: set[str]) -> tuple[list[Key], float]:
        """The beam's most probable analysis (character keys, our labels) that the text's answers allow."""
        analyses = []
        for prob, ents in sorted(self.ner.moves.get_beam_parses(beam), key=lambda p: -p[0]):
            keys = [(doc[s:e].start_char, doc[s:e].end_char, label) for s, e, label in ents if label in labels]
            analyses.append((keys, float(prob)))
            if set(entry.accepted) <= set(keys) and not set(entry.rejected) & set(keys):
                return keys, float(prob)
        best, prob = analyses[0] if analyses else ([], 0.0)
        accepted = list(entry.accepted)
        kept = [k for k in best if k not in entry.rejected and not any(k[0] < a[1] and a[0] < k[1] for a in accepted)]
        return sorted(accepted + kept), prob

    # Learning -------------------------------------------------------------------------

    def remember(self, answers: Iterable[Task]) -> list[int]:
        """Merge answers into memory, per text; return the input hashes that changed.

        Spans with labels we don't teach are left out; in a ``_complete`` answer that makes
        their tokens "O" for our labels, which is what they are. Ignored answers, rejected
        ``_complete`` answers and rejected multi-span answers teach nothing and are skipped.
        """
        labels, changed = set(self.labels), dict[int, None]()
        for task in answers:
            if task.get("answer") not in ("accept", "reject") or "text" not in task:
                continue
            key = input_hash(task)
            entry = self.memory.get(key)
            if entry is None:
                entry = TextAnswers(task["text"])
            if entry.add(task, labels):
                if key not in self.memory:
                    self.memory[key] = entry
                    self.rehearsal.answered(entry.text)
                    if not self.guard.hold(key, complete=entry.complete is not None):
                        self._memory_keys.append(key)
                changed[key] = None
                self.guard.changed(key)
        if self.pretrained:
            # What the model predicted when a text was first answered: silver "O" tokens, and
            # tokens with labels we don't teach (missing, not "O", even in a complete answer).
            new = [self.memory[k] for k in changed if self.memory[k].foreign is None]
            for entry, doc in zip(new, self.ner.pipe(self._docs([e.text for e in new])) if new else []):
                entry.outside = silver_outside(doc) if self.settings["outside_from_model"] else []
                entry.foreign = [t.i for t in doc if t.ent_type_ and t.ent_type_ not in labels]
        return list(changed)

    def example(self, key: int) -> Example | None:
        """The training Example for one remembered text, or None if nothing usable is left."""
        from spacy.tokens import Span
        from spacy.training import Example
        from spacy.util import filter_spans

        entry = self.memory[key]
        predicted, reference = self.nlp.make_doc(entry.text), self.nlp.make_doc(entry.text)
        if not len(reference):
            return None

        def spans(keys: Iterable[Key], misaligned: list[Span] | None = None) -> list[Span]:
            # An answer tokenized differently than this pipeline ("Corp" vs "Corp.") is not
            # guessed at: it is counted, and in a complete annotation its tokens become missing.
            found = []
            for start, end, label in keys:
                span = reference.char_span(start, end, label=label)
                if span is None:
                    self.misaligned.add((key, (start, end, label)))
                    wider = reference.char_span(start, end, alignment_mode="expand")
                    if misaligned is not None and wider is not None:
                        misaligned.append(wider)
                else:
                    found.append(span)
            return found

        complete = entry.complete is not None
        unknown: list[Span] = []
        ents = filter_spans(spans(entry.complete if entry.complete is not None else entry.accepted, unknown))
        gold = {(s.start_char, s.end_char, s.label_) for s in ents} if complete else set()
        negs = [s for s in spans(entry.rejected) if (s.start_char, s.end_char, s.label_) not in gold]
        if not ents and not negs and not complete:
            return None
        taken = {i for s in ents for i in range(s.start, s.end)}
        if complete and entry.foreign:
            unknown += [reference[i : i + 1] for i in entry.foreign if i not in taken and i < len(reference)]
        missing = [s for s in unknown if not taken.intersection(range(s.start, s.end))]
        outside = []
        if entry.outside and not complete:
            answered = taken | {i for s in [*negs, *missing] for i in range(s.start, s.end)}
            outside = [reference[i : i + 1] for i in entry.outside if i not in answered and i < len(reference)]
        reference.set_ents(ents, missing=missing, outside=outside, default="outside" if complete else "missing")
        reference.spans[self.neg_key] = negs
        return Example(predicted, reference)

    def train_batch(self, examples: list[Example], anchored: bool = True) -> float:
        """One optimizer step on ``examples``; returns the NER's loss.

        ``update="greedy"`` is spaCy's own update (``nlp.update``): a local loss on each action
        of the oracle's path. ``"beam"`` is spaCy's ``Parser.update_beam``: a beam follows the
        model's best analyses and a second beam only those the answers allow (an accepted span
        present, a rejected one absent, every missing token free), and the update moves
        probability from the first to the second at the step where they differ most.
        """
        if not examples:
            return 0.0
        losses: dict[str, float] = {self.ner_name: 0.0}
        exclude = [n for n in self.nlp.pipe_names if n not in self.trained]
        try:
            self._step(examples, losses, exclude, anchored)
        except ValueError as e:
            # spaCy's E024: no sequence of moves satisfies an example's constraints (seen once in
            # thousands of simulated SEC answers). Leave those examples out rather than the batch.
            if "E024" not in str(e):
                raise
            learnable = [eg for eg in examples if self._learnable(eg)]
            self.unlearnable += len(examples) - len(learnable)
            if not learnable or len(learnable) == len(examples):
                return 0.0
            self._step(learnable, losses, exclude, anchored)
        return float(losses.get(self.ner_name, 0.0))

    def _step(self, examples: list[Example], losses: dict[str, float], exclude: list[str], anchored: bool) -> None:
        beam = self.settings["update_beam_width"] if self.settings["update"] == "beam" else 0
        ner_step(self.nlp, self.ner_name, examples, self.optimizer, self.settings["dropout"], losses, exclude, beam)
        if anchored:
            self.anchor.pull()

    def _learnable(self, example: Example) -> bool:
        try:
            self.ner.moves.get_oracle_sequence(example)
        except ValueError:
            return False
        return True

    def update(self, answers: list[Task]) -> float | None:
        """Learn from a batch of answers (merged per text), replaying a sample of earlier texts."""
        if self.patterns is not None:
            self.patterns.update(answers)
        changed = self.remember(answers)
        keys = [k for k in changed if not self.guard.held(k)]
        self.accepted += sum(1 for a in answers if a.get("answer") == "accept" and a.get("spans"))
        if not keys:
            return None
        fresh = set(keys)
        replay = [
            k
            for k in self.rng.sample(self._memory_keys, min(len(self._memory_keys), self.settings["replay"] + len(keys)))
            if k not in fresh
        ]
        examples = [eg for k in keys + replay[: self.settings["replay"]] if (eg := self.example(k)) is not None]
        if self._origin is None and (self.settings["anchor"] > 0 or self.rehearsal.size or self.refits.first):
            self._origin = self.snapshot()
            self.anchor.start(lambda: self._origin or [])
        if self.settings["trust"] and self._origin is not None:
            self._judge_start(changed)
        examples += self._rehearsed()
        loss = self.guard.step(self, lambda: self._averaged(lambda: self.train_batch(examples)))
        if self.refits.due(len(self._memory_keys)):
            # A refit that scores worse on the held-out answers is undone too.
            self.guard.step(self, lambda: self._averaged(self.refit, reset=True))
        return loss

    def _averaged(self, train: Callable[[], float], reset: bool = False) -> float:
        """Run ``train`` on the raw weights and leave the model with their moving average
        (binanno.learning.average); with averaging off, just ``train()``."""
        if not self.average.decay:
            return train()
        average = self._weights()
        self.restore(self.average.begin(average))
        loss = train()
        self.restore(self.average.end(average, self._weights(), reset=reset))
        return loss

    def _rehearsed(self) -> list[Example]:
        n = round(self.rehearsal.size * self.trust.value) if self.settings["trust"] else None
        return [self._silver_example(text, silver) for text, silver in self.rehearsal.sample(self._silver, n)]

    def _judge_start(self, keys: list[int]) -> None:
        """Count the starting model's sure entities that the answers on ``keys`` confirm or contradict,
        and set the anchor's pull to the trust that gives (binanno.learning.trust)."""
        new = [k for k in keys if self.memory[k].sure is None]
        for key, (ents, _) in zip(new, self._silver([self.memory[k].text for k in new]) if new else []):
            doc = self.nlp.make_doc(self.memory[key].text)
            self.memory[key].sure = [(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), label) for s, e, label in ents]
        for key in keys:
            e = self.memory[key]
            complete = set(e.complete) if e.complete is not None else None
            self.trust.record(key, *settled(e.sure or [], set(e.accepted), set(e.rejected), complete))
        self.anchor.strength = self.settings["anchor"] * self.trust.value

    def refit(self) -> float:
        """Retrain from the starting weights on every remembered text (binanno.learning.refit); returns the loss."""
        assert self._origin is not None
        self.restore(self._origin)
        self.optimizer = self._new_optimizer(averages=bool(self.settings["refit_average"]))
        keys, size, loss = list(self._memory_keys), max(1, int(self.settings["refit_batch"])), 0.0
        for _ in range(int(self.settings["refit_epochs"])):
            self.rng.shuffle(keys)
            for i in range(0, len(keys), size):
                examples = [eg for k in keys[i : i + size] if (eg := self.example(k)) is not None]
                loss += self.train_batch(examples + self._rehearsed(), anchored=self.settings["refit_anchor"])
        if self.settings["refit_average"]:
            self._take_averages()
        return loss

    def _silver(self, texts: list[str]) -> list[Silver]:
        """The starting model's sure entities and silver "O" tokens for ``texts`` (see binanno.learning.rehearsal)."""
        assert self._origin is not None
        current = self.snapshot()
        self.restore(self._origin)
        try:
            docs = self._docs(texts)
            beams = self._beam_parse(docs, self.settings["beam_width"], self.settings["beam_density"])
            probs = self.ner.scored_ents(beams)
            docs = list(self.ner.pipe(docs))
        finally:
            self.restore(current)
        labels, sure = set(self.labels), self.settings["rehearse_confidence"]
        out: list[Silver] = []
        for doc, p in zip(docs, probs):
            ents = [(e.start, e.end, e.label_) for e in doc.ents
                    if e.label_ in labels and p.get((e.start, e.end, e.label_), 0.0) >= sure]
            out.append((ents, silver_outside(doc)))
        return out

    def _silver_example(self, text: str, silver: Silver) -> Example:
        from spacy.tokens import Span
        from spacy.training import Example

        predicted, reference = self.nlp.make_doc(text), self.nlp.make_doc(text)
        ents, outside = silver
        spans = [Span(reference, s, e, label=label) for s, e, label in ents]
        reference.set_ents(spans, outside=[reference[i : i + 1] for i in outside], default="missing")
        return Example(predicted, reference)

    # The update guard's view of the model (see binanno.learning.guard) ------------------

    def heldout_answers(self, keys: list[int]) -> list[tuple[str, set[Key], set[Key], set[Key] | None]]:
        """(text, accepted, rejected, complete) character spans for held-out texts."""
        out = []
        for key in keys:
            e = self.memory[key]
            out.append((e.text, set(e.accepted), set(e.rejected), set(e.complete) if e.complete is not None else None))
        return out

    def snapshot(self) -> list[tuple[Any, str, Any]]:
        """Copies of the trained weights (and the NER's unseen-label marks, and the raw online
        weights when the model holds their average), for :meth:`restore`."""
        params = self._weights()
        if self.average.raw is not None:
            params.append((self.average, "raw", self.average.saved()))
        return params

    def _weights(self) -> list[tuple[Any, str, Any]]:
        params: list[tuple[Any, str, Any]] = []
        for name in self.trained:
            pipe: Any = self.nlp.get_pipe(name)
            for node in pipe.model.walk():
                params += [(node, p, node.get_param(p).copy()) for p in node.param_names if node.has_param(p)]
        unseen = self.ner.model.attrs.get("unseen_classes")
        params.append((self.ner.model, "unseen_classes", set(unseen) if unseen is not None else None))
        return params

    def restore(self, snapshot: list[tuple[Any, str, Any]]) -> None:
        """Put back the weights of a :meth:`snapshot` (copies: the optimizer updates weights in place)."""
        for node, name, value in snapshot:
            if isinstance(node, WeightAverage):
                node.load(value)
            elif name == "unseen_classes":
                if value is not None:
                    node.attrs["unseen_classes"] = set(value)
            else:
                node.set_param(name, value.copy())
