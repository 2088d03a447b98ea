"""A Hugging Face token classifier in the loop: span probabilities from BIO tags, binary answers out.

Words: texts are tokenized with spaCy's tokenizer (``spacy.blank("en")``, or the pipeline of
a PatternMatcher passed in), so questions carry the same ``tokens``, ``token_start`` and
``token_end`` as the spaCy backend. The encoder reads the text as written (subwords with
character offsets); each word is represented by its first subword, the first whose start
lies inside the word. Two kinds of words have none: whitespace tokens are outside every
entity (P(O) = 1), and a word the subword tokenizer glued to the previous one (the "na" of
"gonna" where "gonna" is one subword) follows that word: its P(I-L) is the previous word's
P(B-L) + P(I-L), its P(O) the previous word's, and it can't begin an entity. A word in
several windows (see hf_base) takes its tags from the window where it is furthest from an edge.

Span probability: the head gives each word a softmax over its BIO tags. Taking words as
independent given the text, a span of words i..j is entity L with probability

    P(i..j is L) = P(B-L at i) * prod_{k=i+1..j} P(I-L at k) * (1 - P(I-L at j+1))

(the last factor is 1 at the end of the text). Candidates are the spans of at most
``max_span_length`` words with P >= ``min_score``; each is its own question, with that
probability as ``meta.score``.

Learning, per answered text (answers on the same text are merged and kept, as in SpacyNER):
an accepted span adds ``-log P(span)`` to the loss, a rejected one ``-log(1 - P(span))``; a
complete answer (``_complete``) is plain cross-entropy on every word's BIO tag. Every other
word is unknown and left out, except with ``outside_from_model`` (on by default for a head
that was already trained): words the model tagged "O" when the text was first answered, and
that no answer covers, are trained as "O", which anchors the rest (see spacy_ner for why).
Each update is one AdamW step on the batch's texts plus ``replay`` earlier texts, with
``learn_rate`` for the encoder and ``head_learn_rate`` for the head: by default 1e-3 for a
new head or one that grew labels (random or zero rows have far to go) and ``learn_rate`` for a
head that was trained already. These defaults are the usual fine-tuning rates, not tuned here.

Patterns: as in SpacyNER. A match the model also proposed is one question (the model's
score, with ``meta.pattern``); a match below ``min_score`` gets the pattern's accept rate. With
``warmup`` N, only pattern matches are asked until N accepted spans were learnt, as a new spaCy
NER does by default; here it is off by default, because it measured worse (see DEFAULTS).

``predict`` decodes greedily (each word's most likely tag; an I-L not after B-L or I-L
starts an entity). ``to_disk`` saves model and tokenizer with ``save_pretrained``;
``HFNER.load(path, labels)`` reloads them with the same scores.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..components.preprocess import batched, tokens_of
from ..errors import UserError
from ..hashing import input_hash
from ..types import Task
from .hf_base import Encoder, Windows, load_encoder, set_threads
from .patterns import PatternMatcher, question_base, span_question
from .spacy_ner import Key, TextAnswers

if TYPE_CHECKING:
    import torch
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULTS: dict[str, Any] = {
    "min_score": 0.05,  # candidates with a lower span probability are not asked
    "max_span_length": 8,  # words per candidate span
    "batch_size": 32,  # texts per forward pass when scoring
    "learn_rate": 5e-5,  # AdamW, for the encoder (and a head that was already trained)
    "head_learn_rate": None,  # None: 1e-3 for a new or grown head, else learn_rate
    "weight_decay": 0.0,  # decay pulls a pretrained model towards zero
    "freeze_embeddings": True,  # leave the word embeddings as they are (see hf_base)
    "grad_clip": 1.0,
    "replay": 30,  # earlier texts replayed with each update
    "outside_from_model": None,  # silver "O" (None: on for a head that was already trained)
    # Accepted spans a head with patterns learns before its own candidates are asked. 0: unlike a new
    # spaCy NER, a new head learnt more from rejecting its own noise (BTC, MiniLM, seed 0, 500 answers:
    # F1 0.277 with 0, 0.134 with 50: 60 accepts but precision 0.10 vs 0.26).
    "warmup": 0,
    "max_length": None,  # subwords per window (None: the model's limit)
    "stride": None,  # subwords shared by neighbouring windows (None: a quarter of a window)
    "threads": None,  # torch.set_num_threads (None: torch's default)
    "device": "cpu",
    "seed": 0,
}

EPS = 1e-7


def bio_tags(labels: list[str]) -> list[str]:
    """"O" and a B- and I- tag per label."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


class HFNER:
    """Model protocol over a Hugging Face token classifier with BIO tags. Build it with :meth:`load`."""

    def __init__(self, encoder: Encoder, labels: list[str], nlp: Language,
                 patterns: PatternMatcher | Iterable[dict[str, Any]] | None = None, **settings: Any) -> None:
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown HFNER setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        self.encoder = encoder
        self.labels = list(labels)
        self.nlp = nlp
        self.settings = {**DEFAULTS, **settings}
        if not 0.0 <= float(self.settings["min_score"]) <= 1.0 or int(self.settings["max_span_length"]) < 1:
            raise UserError("min_score must be between 0 and 1 and max_span_length at least 1 (words)")
        if self.settings["outside_from_model"] is None:
            self.settings["outside_from_model"] = not encoder.new_head
        self.accepted = 0  # accepted spans learnt from, for the warm-up
        self.tags = encoder.names
        self._check_tags()
        fresh = encoder.new_head or bool(encoder.added)
        head_lr = self.settings["head_learn_rate"] or (1e-3 if fresh else self.settings["learn_rate"])
        self.optimizer = encoder.optimizer(self.settings["learn_rate"], head_lr, self.settings["weight_decay"],
                                           self.settings["freeze_embeddings"])
        self.rng = random.Random(self.settings["seed"])
        self.memory: dict[int, TextAnswers] = {}
        self.misaligned: set[tuple[int, Key]] = set()  # answer spans whose edges aren't our word edges
        self._memory_keys: list[int] = []
        if patterns is not None and not isinstance(patterns, PatternMatcher):
            patterns = PatternMatcher(nlp, patterns, labels=self.labels)
        self.patterns: PatternMatcher | None = patterns

    def _check_tags(self) -> None:
        index = self.encoder.index
        bad = [t for t in self.tags if t != "O" and (t[:2] not in ("B-", "I-") or f"B-{t[2:]}" not in index
                                                        or f"I-{t[2:]}" not in index)]
        if "O" not in index or bad:
            raise UserError(f"The token-classification head's labels aren't BIO tags ({', '.join(bad[:5]) or 'no O'}): "
                            "pass a plain encoder or a model trained with O, B-LABEL and I-LABEL tags")
        # How a word glued to the previous one inherits its tags: B-L and I-L -> I-L, the rest stay.
        self._follow = [index[f"I-{t[2:]}"] if t[:2] in ("B-", "I-") else i for i, t in enumerate(self.tags)]

    # Loading and saving -------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, labels: list[str], patterns: PatternMatcher | Iterable[dict[str, Any]] | None = None,
             **settings: Any) -> HFNER:
        """Load a local model or encoder directory with a token-classification head for ``labels``.

        A directory without such a head gets a new one (O and B-/I- per label); labels new to
        an existing head are added (see hf_base). ``patterns`` is a PatternMatcher or a list
        of pattern dicts; ``settings`` override ``DEFAULTS``.
        """
        import spacy

        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. --label PERSON,ORG)")
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown HFNER setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        options = {**DEFAULTS, **settings}
        set_threads(options["threads"])
        encoder = load_encoder(path, "token", bio_tags(labels), seed=options["seed"], max_length=options["max_length"],
                               stride=options["stride"], device=options["device"])
        nlp = patterns.nlp if isinstance(patterns, PatternMatcher) else spacy.blank("en")
        return cls(encoder, labels, nlp, patterns=patterns, **settings)

    def to_disk(self, path: str | Path) -> None:
        """Save model and tokenizer (``save_pretrained``); ``HFNER.load(path, labels)`` reloads them."""
        self.encoder.save(path)

    # Words and their tag probabilities ----------------------------------------------

    def _docs(self, texts: list[str]) -> list[Doc]:
        if self.patterns is not None:
            return list(self.patterns.docs(texts))
        tokenizer: Any = self.nlp.tokenizer
        return list(tokenizer.pipe(texts, batch_size=len(texts)))

    def word_probs(self, docs: list[Doc]) -> list[torch.Tensor]:
        """Each word's probability of each tag (``self.tags``), one [words, tags] tensor per doc.

        Gradients flow when torch's grad mode is on (see the module docstring for the words
        without a subword of their own, and for long texts).
        """
        import torch

        windows = self.encoder.encode([doc.text for doc in docs])
        probs = torch.softmax(self.encoder.logits(windows, self.settings["batch_size"]), dim=-1)
        by_text: dict[int, list[int]] = {}
        for w, t in enumerate(windows.text_of):
            by_text.setdefault(t, []).append(w)
        return [self._align(doc, windows, by_text.get(t, []), probs) for t, doc in enumerate(docs)]

    def _align(self, doc: Doc, windows: Windows, mine: list[int], probs: torch.Tensor) -> torch.Tensor:
        import torch

        n = len(doc)
        word_at = [-1] * len(doc.text)
        for tok in doc:
            word_at[tok.idx : tok.idx + len(tok.text)] = [tok.i] * len(tok.text)
        first: dict[int, int] = {}  # word -> start char of its first subword
        for w in mine:
            for s, e in windows.offsets[w]:
                if e > s and word_at[s] >= 0 and s < first.get(word_at[s], len(doc.text)):
                    first[word_at[s]] = s
        best: dict[int, tuple[int, int, int]] = {}  # word -> (distance from the window's edge, window, position)
        for w in mine:
            real = [p for p, (s, e) in enumerate(windows.offsets[w]) if e > s]
            if not real:
                continue
            lo, hi = real[0], real[-1]
            for p in real:
                s = windows.offsets[w][p][0]
                word = word_at[s]
                if word >= 0 and first.get(word) == s:
                    edge = min(p - lo, hi - p)
                    if word not in best or edge > best[word][0]:
                        best[word] = (edge, w, p)
        have = sorted(best)
        rows = probs[[best[i][1] for i in have], [best[i][2] for i in have]] if have else probs.new_zeros((0, len(self.tags)))
        if len(have) == n:
            return rows
        row_of = {i: k for k, i in enumerate(have)}
        outside = probs.new_zeros(len(self.tags))
        outside[self.encoder.index["O"]] = 1.0
        follow = torch.tensor(self._follow, device=probs.device)
        out: list[torch.Tensor] = []
        for tok in doc:
            if tok.i in row_of:
                out.append(rows[row_of[tok.i]])
            elif tok.is_space or not out:
                out.append(outside)
            else:  # glued to the previous word: its B-L and I-L mass becomes I-L
                out.append(probs.new_zeros(len(self.tags)).index_add(0, follow, out[-1]))
        return torch.stack(out)

    # Scoring --------------------------------------------------------------------------

    def span_scores(self, probs: Any, min_score: float | None = None) -> dict[tuple[int, int, str], float]:
        """{(word start, word end exclusive, label): P(span)} for the candidate spans of one doc.

        ``probs`` is the doc's [words, tags] array; spans of probability 0 are never candidates.
        """
        floor = self.settings["min_score"] if min_score is None else min_score
        longest = self.settings["max_span_length"]
        index, n = self.encoder.index, len(probs)
        found: dict[tuple[int, int, str], float] = {}
        for label in self.labels:
            b, inside = probs[:, index[f"B-{label}"]].tolist(), probs[:, index[f"I-{label}"]].tolist()
            for start in range(n):
                prefix = b[start]
                for end in range(start, min(n, start + longest)):
                    if end > start:
                        prefix *= inside[end]
                    if prefix <= 0.0 or prefix < floor:
                        break  # the span's probability only shrinks as it grows
                    p = prefix * (1.0 - inside[end + 1] if end + 1 < n else 1.0)
                    if p > 0.0 and p >= floor:
                        found[(start, end + 1, label)] = min(1.0, max(0.0, p))
        return found

    def candidates(self, texts: Iterable[str], min_score: float | None = None) -> list[dict[tuple[int, int, str], float]]:
        """{(char start, char end, label): P(span)} per text, for spans at or above ``min_score`` (default: the setting)."""
        import torch

        out: list[dict[tuple[int, int, str], float]] = []
        for batch in batched(texts, self.settings["batch_size"]):
            docs = self._docs(batch)
            with torch.inference_mode():
                probs = self.word_probs(docs)
            for doc, p in zip(docs, probs):
                found = self.span_scores(p.cpu().numpy(), min_score) if len(doc) else {}
                out.append({(doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), label): score
                            for (s, e, label), score in found.items()})
        return out

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """Yield (P(accept), task) for every candidate span (see the module docstring)."""
        import torch

        patterns = self.patterns
        for batch in batched(stream, self.settings["batch_size"]):
            docs = self._docs([task.get("text", "") for task in batch])
            # Warm-up (off by default, see DEFAULTS): only pattern matches until ``warmup`` accepts.
            warming = patterns is not None and self.accepted < self.settings["warmup"]
            probs: list[Any] = [None] * len(docs)
            if not warming:
                with torch.inference_mode():
                    probs = list(self.word_probs(docs))
            for task, doc, p in zip(batch, docs, probs):
                found = self.span_scores(p.cpu().numpy()) if len(doc) and p is not None else {}
                matches = {(s, e, label): key for s, e, label, key in patterns.matches(doc)} if patterns is not None else {}
                if not found and not matches:
                    continue
                base, tokens = question_base(task), tokens_of(doc)
                for start, end, label in sorted(found.keys() | matches.keys()):
                    pattern = matches.get((start, end, label))
                    if (start, end, label) in found:
                        score = found[(start, end, label)]
                    else:
                        score = patterns.score(pattern) if patterns is not None else 0.0
                    yield score, span_question(base, doc, start, end, label, score, tokens, pattern)

    def predict(self, texts: Iterable[str]) -> list[list[tuple[int, int, str]]]:
        """Greedy predictions (char start, end, label) for our labels, for evaluation."""
        import torch

        out: list[list[tuple[int, int, str]]] = []
        for batch in batched(texts, self.settings["batch_size"]):
            docs = self._docs(batch)
            with torch.inference_mode():
                probs = self.word_probs(docs)
            for doc, p in zip(docs, probs):
                out.append([(doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), label)
                            for s, e, label in self._decode(p.argmax(dim=-1).tolist())])
        return out

    def _decode(self, best: list[int]) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        current: list[Any] | None = None  # [start, end, label]
        for i, tag in enumerate(self.tags[t] for t in best):
            if tag[:2] == "I-" and current is not None and current[2] == tag[2:]:
                current[1] = i + 1
                continue
            if current is not None:
                spans.append((current[0], current[1], current[2]))
                current = None
            if tag != "O":
                current = [i, i + 1, tag[2:]]
        if current is not None:
            spans.append((current[0], current[1], current[2]))
        labels = set(self.labels)
        return [s for s in spans if s[2] in labels]

    # Learning -------------------------------------------------------------------------

    def remember(self, answers: Iterable[Task]) -> list[int]:
        """Merge answers into memory, per text; return the input hashes that changed (as SpacyNER)."""
        import torch

        labels, changed = set(self.labels), dict[int, None]()
        for task in answers:
            if task.get("answer") not in ("accept", "reject") or "text" not in task:
                continue
            key = input_hash(task)
            entry = self.memory.get(key) or TextAnswers(task["text"])
            if entry.add(task, labels):
                if key not in self.memory:
                    self.memory[key] = entry
                    self._memory_keys.append(key)
                changed[key] = None
        if self.settings["outside_from_model"]:
            new = [self.memory[k] for k in changed if self.memory[k].outside is None]
            if new:
                outside = self.encoder.index["O"]
                with torch.inference_mode():
                    probs = self.word_probs(self._docs([e.text for e in new]))
                for entry, p in zip(new, probs):
                    entry.outside = [i for i, t in enumerate(p.argmax(dim=-1).tolist()) if t == outside]
        return list(changed)

    def _words(self, key: int, doc: Doc, keys: Iterable[Key]) -> list[tuple[int, int, str]]:
        """(first word, last word, label) for answer spans on word edges; the others are counted as misaligned."""
        starts = {t.idx: t.i for t in doc}
        ends = {t.idx + len(t.text): t.i for t in doc}
        out = []
        for start, end, label in keys:
            if start in starts and end in ends and starts[start] <= ends[end]:
                out.append((starts[start], ends[end], label))
            else:
                self.misaligned.add((key, (start, end, label)))
        return out

    def text_loss(self, key: int, doc: Doc, probs: torch.Tensor) -> torch.Tensor | None:
        """The loss of one remembered text under ``probs`` (see the module docstring), or None."""
        import torch

        entry, index = self.memory[key], self.encoder.index
        logp = torch.log(probs.clamp_min(EPS))
        n = len(doc)
        if entry.complete is not None:
            tags = [index["O"]] * n
            taken: set[int] = set()
            spans = sorted(self._words(key, doc, entry.complete), key=lambda s: s[0] - s[1])  # longest first
            for i, j, label in spans:
                if not taken.intersection(range(i, j + 1)):
                    taken.update(range(i, j + 1))
                    tags[i : j + 1] = [index[f"B-{label}"]] + [index[f"I-{label}"]] * (j - i)
            return -logp[torch.arange(n), torch.tensor(tags)].sum() if n else None

        def log_span(i: int, j: int, label: str) -> torch.Tensor:
            total = logp[i, index[f"B-{label}"]] + logp[i + 1 : j + 1, index[f"I-{label}"]].sum()
            if j + 1 < n:
                total = total + torch.log((1.0 - probs[j + 1, index[f"I-{label}"]]).clamp_min(EPS))
            return total

        terms: list[torch.Tensor] = []
        accepted = self._words(key, doc, entry.accepted)
        rejected = self._words(key, doc, entry.rejected)
        terms += [-log_span(i, j, label) for i, j, label in accepted]
        terms += [-torch.log((1.0 - log_span(i, j, label).exp()).clamp_min(EPS)) for i, j, label in rejected]
        if entry.outside:
            answered = {k for i, j, _ in accepted + rejected for k in range(i, j + 1)}
            silver = [k for k in entry.outside if k not in answered and k < n]
            if silver:
                terms.append(-logp[silver, index["O"]].sum())
        return torch.stack(terms).sum() if terms else None

    def update(self, answers: list[Task]) -> float | None:
        """Learn from a batch of answers (merged per text), replaying a sample of earlier texts.

        Returns the loss of the batch's own texts before the step, or None if there was
        nothing to learn.
        """
        import torch

        if self.patterns is not None:
            self.patterns.update(answers)
        keys = self.remember(answers)
        self.accepted += sum(1 for a in answers if a.get("answer") == "accept" and a.get("spans"))
        if not keys:
            return None
        fresh = set(keys)
        sample = self.rng.sample(self._memory_keys, min(len(self._memory_keys), self.settings["replay"] + len(keys)))
        chosen = keys + [k for k in sample if k not in fresh][: self.settings["replay"]]
        docs = self._docs([self.memory[k].text for k in chosen])
        model = self.encoder.model
        model.train()
        try:
            losses = [(k, self.text_loss(k, doc, p)) for k, doc, p in zip(chosen, docs, self.word_probs(docs))]
            known = [(k, loss) for k, loss in losses if loss is not None]
            if not known:
                return None
            total = torch.stack([loss for _, loss in known]).sum() / len(known)
            self.optimizer.zero_grad()
            total.backward()
            if self.settings["grad_clip"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.settings["grad_clip"])
            self.optimizer.step()
        finally:
            model.eval()
        return float(sum(loss.item() for k, loss in known if k in fresh))
