"""A Hugging Face sequence classifier in the loop: one question per (text, label), binary answers out.

Scores: independent labels (a sigmoid per label) unless ``exclusive`` (a softmax over the
head's outputs). A text longer than the model's limit is split into overlapping windows
(see hf_base) and its probabilities are the mean of its windows' probabilities: every part
of the text counts, in proportion to its length, and a softmax's probabilities still add up
to one. (A max over windows would suit "is LABEL mentioned anywhere" better for independent
labels, but would train only the one window that wins.)

Questions and targets are shared with the other textcat backends (textcat_answers): one
question per text and label with ``meta.score``, hashed on the label; answers are merged per
text and earlier texts replayed with each update. Losses: independent labels take the binary
cross-entropy of each label answered (accept 1, reject 0), weighted so that a label's accepts
and rejects so far weigh the same (``balance``), and leave the others out. Exclusive
labels take ``-log p(A)`` when A is the class (accepted, or the other of two rejected), else
``-log(1 - p(A))`` for each rejected A, which moves A's probability to the other labels.

Each update is one AdamW step with ``learn_rate`` for the encoder and ``head_learn_rate``
for the head (by default 1e-3 for a new or grown head, else ``learn_rate``); these are the
usual fine-tuning rates, not tuned here. One step learns little from a batch, so the head's
output layer is also **refitted** (``head_refit``) on every answer so far, each time the answers
have grown by ``head_refit_growth`` (at 8, 10, 13, 16, ... 454 answers: about 5x the answers in
encoder passes over a run): the encoder's current features of the answered texts (the output
layer's inputs, one row per window) are computed once, and the layer's rows for the answered
labels are fitted on them with L-BFGS to the same losses, summed, plus ``0.5 / head_refit_C`` times
their squared weights (scikit-learn's logistic regression objective, C 1 as its default), from
zero, for the labels that have both an accept and a reject. It is the sklearn backend's refit on the encoder's features (issue 11). ``to_disk`` saves with ``save_pretrained``;
``HFTextcat.load(path, labels)`` reloads it with the same scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..components.preprocess import batched
from ..errors import UserError
from ..types import Task
from .hf_base import Encoder, load_encoder, output_layer, set_threads
from .patterns import question_base
from .textcat_answers import LabelMemory, label_question

if TYPE_CHECKING:
    import torch

DEFAULTS: dict[str, Any] = {
    "batch_size": 32,  # texts per forward pass when scoring
    "learn_rate": 5e-5,  # AdamW, for the encoder (and a head that was already trained)
    "head_learn_rate": None,  # None: 1e-3 for a new or grown head, else learn_rate
    "weight_decay": 0.0,
    "freeze_embeddings": True,  # leave the word embeddings as they are (see hf_base)
    "grad_clip": 1.0,
    "replay": 30,  # earlier texts replayed with each update
    "balance": True,
    "head_refit": True,  # fit the head's output layer again on all answers as they grow (see above)
    "head_refit_growth": 1.25,  # refit when the answers have grown by this factor since the last refit
    "head_refit_C": 1.0,  # inverse L2 strength of the refit, as scikit-learn's LogisticRegression  # independent labels: weigh each label's accepts and rejects equally (textcat_answers)
    "max_length": None,  # subwords per window (None: the model's limit)
    "stride": None,  # subwords shared by neighbouring windows (None: a quarter of a window)
    "threads": None,  # torch.set_num_threads (None: torch's default)
    "device": "cpu",
    "seed": 0,
}

EPS = 1e-7
FIRST_REFIT = 8  # answers before the first refit of the head


class HFTextcat:
    """Model protocol over a Hugging Face sequence classifier. Build it with :meth:`load`."""

    def __init__(self, encoder: Encoder, labels: list[str], exclusive: bool = False, **settings: Any) -> None:
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown HFTextcat setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        self.encoder = encoder
        self.labels = list(labels)
        self.exclusive = exclusive
        self.settings = {**DEFAULTS, **settings}
        fresh = encoder.new_head or bool(encoder.added)
        head_lr = self.settings["head_learn_rate"] or (1e-3 if fresh else self.settings["learn_rate"])
        self.optimizer = encoder.optimizer(self.settings["learn_rate"], head_lr, self.settings["weight_decay"],
                                           self.settings["freeze_embeddings"])
        self.memory = LabelMemory(self.labels, exclusive, seed=self.settings["seed"])
        self.refitted_at = 0  # answers at the last refit of the head

    @classmethod
    def load(cls, path: str | Path, labels: list[str], exclusive: bool = False, **settings: Any) -> HFTextcat:
        """Load a local model or encoder directory with a sequence-classification head for ``labels``.

        A directory without such a head gets a new one; labels new to an existing head are
        added (see hf_base). ``settings`` override ``DEFAULTS``.
        """
        if not labels:
            raise UserError("No labels given: pass at least one label (e.g. --label SPAM)")
        if exclusive and len(labels) < 2:
            raise UserError("--exclusive needs at least two labels (e.g. --label POSITIVE,NEGATIVE); "
                            "for one label leave --exclusive out")
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise UserError(f"unknown HFTextcat setting(s) {', '.join(sorted(unknown))}. Available: {', '.join(DEFAULTS)}.")
        options = {**DEFAULTS, **settings}
        set_threads(options["threads"])
        problem = "single_label_classification" if exclusive else "multi_label_classification"
        encoder = load_encoder(path, "sequence", labels, problem_type=problem, seed=options["seed"],
                               max_length=options["max_length"], stride=options["stride"], device=options["device"])
        return cls(encoder, labels, exclusive, **settings)

    def to_disk(self, path: str | Path) -> None:
        """Save model and tokenizer (``save_pretrained``); ``HFTextcat.load(path, labels)`` reloads them."""
        self.encoder.save(path)

    # Scoring --------------------------------------------------------------------------

    def probs(self, texts: list[str]) -> torch.Tensor:
        """[texts, head outputs] probabilities, the mean over each text's windows (gradients follow grad mode)."""
        import torch

        windows = self.encoder.encode(texts)
        logits = self.encoder.logits(windows, self.settings["batch_size"])
        per_window = torch.softmax(logits, dim=-1) if self.exclusive else torch.sigmoid(logits)
        index = torch.tensor(windows.text_of, device=per_window.device)
        total = per_window.new_zeros((len(texts), per_window.shape[-1])).index_add(0, index, per_window)
        counts = per_window.new_zeros(len(texts)).index_add(0, index, per_window.new_ones(len(index)))
        return total / counts.clamp_min(1.0).unsqueeze(-1)

    def predict(self, texts: Iterable[str]) -> list[dict[str, float]]:
        """The probability of each label for each text, for evaluation."""
        import torch

        out: list[dict[str, float]] = []
        columns = [self.encoder.index[label] for label in self.labels]
        for batch in batched(texts, self.settings["batch_size"]):
            with torch.inference_mode():
                probs = self.probs(batch)[:, columns].clamp(0.0, 1.0).tolist()
            out.extend(dict(zip(self.labels, row)) for row in probs)
        return out

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        """Yield (P(label), question) for every text and label."""
        for batch in batched(stream, self.settings["batch_size"]):
            for task, cats in zip(batch, self.predict([task.get("text", "") for task in batch])):
                base = question_base(task)
                for label in self.labels:
                    yield cats[label], label_question(base, label, cats[label])

    # Learning -------------------------------------------------------------------------

    def text_loss(self, probs: torch.Tensor, targets: dict[str, float],
                  weights: dict[str, tuple[float, float]] | None = None) -> torch.Tensor | None:
        """The loss of one text's probabilities against its known targets (see the module docstring).

        ``weights``: (reject, accept) weight per independent label, from ``LabelMemory.weights``.
        """
        import torch

        index = self.encoder.index
        terms: list[torch.Tensor] = []
        if self.exclusive:
            true = [label for label, y in targets.items() if y == 1.0]
            if true:
                terms.append(-torch.log(probs[index[true[-1]]].clamp_min(EPS)))
            else:
                terms += [-torch.log((1.0 - probs[index[label]]).clamp_min(EPS)) for label in targets]
        else:
            for label, y in targets.items():
                p = probs[index[label]].clamp(EPS, 1.0 - EPS)
                weight = (weights or {}).get(label, (1.0, 1.0))[int(y)]
                terms.append(-weight * (y * torch.log(p) + (1.0 - y) * torch.log(1.0 - p)))
        return torch.stack(terms).sum() if terms else None

    def update(self, answers: list[Task]) -> float | None:
        """Learn from a batch of answers plus a replay of earlier ones.

        Returns the summed loss of the batch's own texts before the step, or None if there
        was nothing to learn.
        """
        import torch

        fresh = self.memory.add(answers)
        if not fresh:
            return None
        keys = fresh + self.memory.replay(fresh, self.settings["replay"])
        model = self.encoder.model
        model.train()
        try:
            probs = self.probs([self.memory.texts[k] for k in keys])
            weights = self.memory.weights() if self.settings["balance"] and not self.exclusive else None
            losses = [(k, self.text_loss(p, self.memory.targets(k), weights)) for k, p in zip(keys, probs)]
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
        new = set(fresh)
        loss = float(sum(loss.item() for k, loss in known if k in new))
        if self.settings["head_refit"] and len(self.memory) >= max(FIRST_REFIT, self.refitted_at * self.settings["head_refit_growth"]):
            self.refit_head()
        return loss

    def refit_head(self) -> bool:
        """Fit the output layer's rows for the answered labels again on every answer (see the module docstring).

        False when there is nothing to fit (no answers, or no output layer found).
        """
        import torch

        encoder = self.encoder
        layer = output_layer(encoder.model, len(encoder.names))
        keys = list(self.memory.answers)
        targets = [self.memory.targets(k) for k in keys]
        # Only labels with both an accept and a reject: on one class alone the fit has no finite
        # optimum (the bias runs off to minus infinity, every score becomes 0, as sklearn's refit knows).
        labels = [label for label, (rejects, accepts) in self.memory.counts().items() if rejects and accepts]
        if layer is None or not labels:
            return False
        self.refitted_at = len(self.memory)
        index = encoder.index
        columns = torch.tensor([index[label] for label in labels], device=layer.weight.device)
        windows = encoder.encode([self.memory.texts[k] for k in keys])
        with torch.no_grad():  # not inference_mode: these tensors take part in the fit below
            features = encoder.layer_inputs(windows, layer, self.settings["batch_size"])
            base = torch.nn.functional.linear(features, layer.weight, layer.bias)
        text_of = torch.tensor(windows.text_of, device=features.device)
        counts = torch.zeros(len(keys), device=features.device).index_add(0, text_of, torch.ones(len(text_of), device=features.device))
        # One (texts x labels) matrix per term of the losses: see text_loss.
        shape = (len(keys), len(labels))
        positive, negative = torch.zeros(shape, device=features.device), torch.zeros(shape, device=features.device)
        weights = self.memory.weights() if self.settings["balance"] and not self.exclusive else {}
        for i, cats in enumerate(targets):
            true = [label for label, y in cats.items() if y == 1.0]
            for j, label in enumerate(labels):
                if label not in cats or (self.exclusive and true and label != true[-1]):
                    continue
                w_reject, w_accept = weights.get(label, (1.0, 1.0))
                if cats[label] == 1.0:
                    positive[i, j] = w_accept
                else:
                    negative[i, j] = w_reject
        # From zero, not from the current rows: the problem is convex, and a saturated start (a bias
        # of -100 after online steps on rejects) has zero gradient under the clamp below and stays put.
        weight = torch.zeros((len(labels), features.shape[-1]), device=features.device, requires_grad=True)
        bias = torch.zeros(len(labels), device=features.device, requires_grad=True)
        l2 = 0.5 / self.settings["head_refit_C"]

        def objective() -> torch.Tensor:
            logits = base.index_copy(1, columns, torch.nn.functional.linear(features, weight, bias))
            per_window = torch.softmax(logits, dim=-1) if self.exclusive else torch.sigmoid(logits)
            probs = per_window.new_zeros((len(keys), per_window.shape[-1])).index_add(0, text_of, per_window)
            probs = (probs / counts.clamp_min(1.0).unsqueeze(-1))[:, columns].clamp(EPS, 1.0 - EPS)
            loss = -(positive * torch.log(probs)).sum() - (negative * torch.log(1.0 - probs)).sum()
            return loss + l2 * (weight ** 2).sum()

        optimizer = torch.optim.LBFGS([weight, bias], max_iter=100, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = objective()
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            layer.weight[columns] = weight.detach()
            if layer.bias is not None:
                layer.bias[columns] = bias.detach()
        return True
