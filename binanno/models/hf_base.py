"""Loading a local Hugging Face encoder with a classification head, and running it over long texts.

Shared by the ``hf:PATH`` backends (hf_ner, hf_textcat).

Loading: only a local directory (``save_pretrained`` output or a downloaded snapshot); nothing
is fetched from the hub (``local_files_only=True``, whatever ``HF_HUB_OFFLINE`` says). The
tokenizer must be a fast one, because the backends need character offsets.

Heads: a directory whose ``config.json`` names an architecture for the task
(``...ForTokenClassification`` or ``...ForSequenceClassification``) keeps its head and its
``id2label``. Any other directory (a plain encoder such as all-MiniLM-L6-v2, or a head for the
other task) gets a new head, initialised like transformers initialises one (normal weights of
``initializer_range``, zero bias).

New labels on an existing head: the head's output layer grows by one row per new output name,
appended after the old ones. Old rows are kept exactly, so old outputs' logits don't change; a
new row starts with zero weights and zero bias, i.e. a logit of 0 for every input: with a
sigmoid the new label starts at 0.5, with a softmax it takes a share that shrinks the others
only a little in a confident head, and answers teach it from there. Names the head has but
nobody asked for stay: they are still part of a softmax.

Windows: a text longer than the model's length limit is never cut. It is split into
overlapping windows of at most ``max_length`` subwords (special tokens included) with
``stride`` subwords shared by neighbours, with character offsets into the whole text, and
each backend combines the windows (see hf_ner and hf_textcat). The limit is the smallest of
the ``max_length`` setting, the tokenizer's ``model_max_length`` and the model's
``max_position_embeddings``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from ..errors import UserError

if TYPE_CHECKING:
    import torch

HEADS = {"token": "ForTokenClassification", "sequence": "ForSequenceClassification"}
NO_LIMIT = 100_000  # a tokenizer without a model_max_length reports ~1e30


@dataclass
class Windows:
    """Subword windows over a batch of texts, ready for the model."""

    inputs: dict[str, torch.Tensor]  # input_ids, attention_mask (and token_type_ids), one row per window
    text_of: list[int]  # the text each window comes from
    offsets: list[list[tuple[int, int]]]  # per window and position: characters in its text; (0, 0) if none

    def __len__(self) -> int:
        return len(self.text_of)


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op threads if ``threads`` is given; otherwise leave torch's default alone."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # Adding a head makes transformers print a load report and a progress bar per model: we know.
    from transformers.utils import logging

    verbosity, bar = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bar:
            logging.enable_progress_bar()


def check_directory(path: str | Path) -> Path:
    """The model directory, or a one-line UserError saying why it can't be one."""
    directory = Path(path).expanduser()
    if not directory.exists():
        raise UserError(f"Can't find Hugging Face model directory '{path}': pass a local directory (no hub downloads here)")
    if not directory.is_dir() or not (directory / "config.json").is_file():
        raise UserError(f"'{path}' is not a Hugging Face model directory (no config.json): pass a directory written by save_pretrained")
    return directory


class Encoder:
    """A tokenizer and a model with a classification head over ``names`` (its outputs, in order)."""

    def __init__(self, tokenizer: Any, model: Any, names: list[str], new_head: bool, added: list[str],
                 max_length: int | None = None, stride: int | None = None, device: str = "cpu") -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self.new_head = new_head
        self.added = added
        self.device = device
        limits = [getattr(model.config, "max_position_embeddings", None) or 512]
        if 0 < (tokenizer.model_max_length or 0) < NO_LIMIT:
            limits.append(tokenizer.model_max_length)
        if max_length:
            limits.append(int(max_length))
        self.max_length = min(limits)
        room = self.max_length - tokenizer.num_special_tokens_to_add()
        self.stride = room // 4 if stride is None else int(stride)
        if room < 2 or not 0 <= self.stride < room:
            raise UserError(f"stride must be between 0 and {max(0, room - 1)} for windows of {self.max_length} subwords "
                            f"(max_length {self.max_length}): lower stride or raise max_length")
        model.to(device)
        model.eval()

    def encode(self, texts: Sequence[str]) -> Windows:
        """Overlapping windows over ``texts`` (one or more per text), padded to the longest."""
        import torch

        enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_length, stride=self.stride,
                             return_overflowing_tokens=True, return_offsets_mapping=True, padding=True)
        inputs = {k: torch.tensor(enc[k], device=self.device)
                  for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc}
        offsets = [[(int(s), int(e)) for s, e in row] for row in enc["offset_mapping"]]
        text_of = [int(i) for i in enc["overflow_to_sample_mapping"]]
        return Windows(inputs, text_of, offsets)

    def logits(self, windows: Windows, batch_size: int = 64) -> torch.Tensor:
        """The head's logits for every window (gradients follow torch's grad mode)."""
        return self._by_length(windows, batch_size, lambda part: self.model(**part).logits)

    def layer_inputs(self, windows: Windows, layer: Any, batch_size: int = 64) -> torch.Tensor:
        """What ``layer`` (a module of the model) is given for every window: the features a refit of the
        head's output layer is fitted on (gradients follow torch's grad mode)."""

        def forward(part: dict[str, Any]) -> torch.Tensor:
            seen: list[torch.Tensor] = []
            handle = layer.register_forward_hook(lambda _module, args, _out: seen.append(args[0]))
            try:
                self.model(**part)
            finally:
                handle.remove()
            return seen[-1]

        return self._by_length(windows, batch_size, forward)

    def _by_length(self, windows: Windows, batch_size: int, forward: Callable[[dict[str, Any]], torch.Tensor]) -> torch.Tensor:
        """``forward`` over the windows in chunks of similar length, each cut to its longest, in window order."""
        import torch

        if not len(windows):
            return torch.zeros(0)
        # Padding every tweet of a batch to the longest one cost about 40% of the time on BTC.
        mask = windows.inputs["attention_mask"]
        lengths = mask.sum(dim=1)
        width = mask.shape[1]
        trim = getattr(self.tokenizer, "padding_side", "right") == "right"
        order = torch.argsort(lengths, descending=True, stable=True)
        chunks = []
        for start in range(0, len(windows), max(1, batch_size)):
            rows = order[start : start + max(1, batch_size)]
            cut = int(lengths[rows].max()) if trim else width
            out = forward({k: v[rows, :cut] for k, v in windows.inputs.items()})
            if out.dim() == 3 and cut < width:  # per token: pad back to the batch's width
                out = torch.nn.functional.pad(out, (0, 0, 0, width - cut))
            chunks.append(out)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)
        return torch.cat(chunks).index_select(0, inverse)

    def head_parameters(self) -> tuple[list[Any], list[Any]]:
        """(encoder parameters, head parameters): everything outside ``model.base_model`` is head."""
        base = {id(p) for p in self.model.base_model.parameters()}
        params = [p for p in self.model.parameters() if p.requires_grad]
        return [p for p in params if id(p) in base], [p for p in params if id(p) not in base]

    def optimizer(self, learn_rate: float, head_learn_rate: float, weight_decay: float = 0.0,
                  freeze_embeddings: bool = True) -> Any:
        """AdamW with one learning rate for the encoder and another for the head.

        ``freeze_embeddings`` leaves the input (word) embeddings out: a few hundred answers
        touch few of their rows, yet AdamW steps the whole table every time. On MiniLM
        (30,522 x 384) that made no clear difference (median 2.8 vs 2.9 s per update of 10
        answers and 30 replayed texts, on a busy 2-core machine); on a large vocabulary
        (XLM-R: 250,002 x 768) the table is most of the model's parameters.
        """
        import torch

        if freeze_embeddings:
            for p in self.model.get_input_embeddings().parameters():
                p.requires_grad_(False)
        encoder, head = self.head_parameters()
        groups = [{"params": encoder, "lr": learn_rate}, {"params": head, "lr": head_learn_rate}]
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=learn_rate, weight_decay=weight_decay)

    def save(self, path: str | Path) -> None:
        """``save_pretrained`` the model and the tokenizer into ``path``."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        with _quiet():
            self.model.save_pretrained(directory)
            self.tokenizer.save_pretrained(directory)


def load_encoder(path: str | Path, head: str, names: Sequence[str], *, problem_type: str | None = None,
                 seed: int = 0, max_length: int | None = None, stride: int | None = None,
                 device: str = "cpu") -> Encoder:
    """Load the tokenizer and model in local directory ``path`` with a ``head`` ("token" or "sequence").

    ``names`` are the head outputs wanted (BIO tags, or labels): an existing head of the
    task keeps its outputs and grows rows for the missing names; otherwise a new head is
    made with exactly ``names``. ``problem_type`` is stored in the config of a sequence head.
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

    directory = check_directory(path)
    try:
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"Can't read the config.json in '{path}' ({_first_line(e)}): pass a Hugging Face model directory") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"Can't load a tokenizer from '{path}' ({_first_line(e)}): save one there with save_pretrained") from None
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(f"The tokenizer in '{path}' is not a fast tokenizer (no character offsets): save a fast one with it")
    has_head = any(str(a).endswith(HEADS[head]) for a in (getattr(config, "architectures", None) or []))
    old = [config.id2label[i] for i in range(config.num_labels)] if has_head else []
    added = [n for n in names if n not in old]
    final = old + added if has_head else list(names)
    if not has_head:
        config.num_labels = len(final)
        config.id2label = dict(enumerate(final))
        config.label2id = {n: i for i, n in enumerate(final)}
    if problem_type is not None and head == "sequence":
        config.problem_type = problem_type
    auto = AutoModelForTokenClassification if head == "token" else AutoModelForSequenceClassification
    torch.manual_seed(seed)  # the same new head every time
    try:
        with _quiet():
            model = auto.from_pretrained(directory, config=config, local_files_only=True, ignore_mismatched_sizes=True)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise UserError(f"Can't load the model in '{path}' ({_first_line(e)}): pass a directory written by save_pretrained") from None
    if not has_head:
        _reset_head(model)  # another task's head of the same shape would otherwise load as this one
    elif added:
        _grow_head(model, final, len(old))
    return Encoder(tokenizer, model, final, new_head=not has_head, added=added if has_head else [],
                   max_length=max_length, stride=stride, device=device)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def _head_modules(model: Any) -> list[Any]:
    return [child for child in model.children() if child is not model.base_model]


def _reset_head(model: Any) -> None:
    import torch

    std = getattr(model.config, "initializer_range", 0.02) or 0.02
    with torch.no_grad():
        for module in [m for child in _head_modules(model) for m in child.modules()]:
            if isinstance(module, torch.nn.Linear):
                module.weight.normal_(0.0, std)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, torch.nn.LayerNorm):
                module.reset_parameters()


def output_layer(model: Any, size: int) -> Any:
    """The head's last ``torch.nn.Linear`` with ``size`` outputs (its logits), or None."""
    import torch

    layers = [m for child in _head_modules(model) for m in child.modules()
              if isinstance(m, torch.nn.Linear) and m.out_features == size]
    return layers[-1] if layers else None


def _grow_head(model: Any, names: list[str], old: int) -> None:
    """Append zero rows to the head's output layer for ``names[old:]``; see the module docstring."""
    import torch

    layer = output_layer(model, old)
    if layer is None:
        raise UserError(f"Can't add outputs {', '.join(names[old:])} to this model's head (no output layer of size {old} found): "
                        "start from a plain encoder instead")
    grown = torch.nn.Linear(layer.in_features, len(names), bias=layer.bias is not None)
    grown.to(device=layer.weight.device, dtype=layer.weight.dtype)
    with torch.no_grad():
        grown.weight.zero_()
        grown.weight[:old] = layer.weight
        if layer.bias is not None:
            grown.bias.zero_()
            grown.bias[:old] = layer.bias
    for parent in [model, *[m for child in _head_modules(model) for m in child.modules()]]:
        for name, child in parent.named_children():
            if child is layer:
                setattr(parent, name, grown)
    model.config.num_labels = len(names)
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {n: i for i, n in enumerate(names)}
    if hasattr(model, "num_labels"):
        model.num_labels = len(names)
