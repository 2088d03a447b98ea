"""data-to-spacy: merged answers as a spaCy ``DocBin`` train/dev pair and a ``config.cfg``.

What the Docs keep: complete NER annotations as entities with every other token "O"; yes/no
NER answers as their accepted entities with every other token *missing* (unknown), and their
rejected spans in ``doc.spans["incorrect_spans"]``, which the config's NER reads as
known-wrong (``incorrect_spans_key``); textcat answers in ``doc.cats`` (labels nobody answered
left out, which spaCy's textcat loss treats as missing); spancat answers in ``doc.spans["sc"]``.

What is lost: rejected questions with several spans (which one is wrong is unknown), spans
not on token boundaries, ignored answers, sessions, timestamps and meta, and the losing side
of a conflict (the latest answer wins). ``spacy train`` updates every component on every Doc,
so a text with no spancat answers reads as "no spans" to the span categorizer, and spaCy's
scorer counts unanswered textcat labels as false and doesn't score rejected entities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .corpus import NEG_KEY, Corpus, held_out
from .errors import UserError
from .trainer import base_says, load_pipeline


def build_config(components: list[str], lang: str, base_model: str | None = None) -> Any:
    """A full training config from spaCy's own ``init_config`` for ``components``.

    With ``base_model``, the components it already has are sourced from it instead.
    """
    from spacy.cli.init_config import init_config

    sourced = set()
    if base_model and not base_model.startswith("blank:"):
        nlp = load_pipeline(base_model)
        lang, sourced = nlp.lang or lang, {c for c in components if c in nlp.pipe_names}
    config = init_config(lang=lang, pipeline=components, optimize="efficiency", gpu=False, silent=True)
    for name in sourced:
        config["components"][name] = {"source": base_model}
    if "ner" in components and "ner" not in sourced:
        config["components"]["ner"]["incorrect_spans_key"] = NEG_KEY
    return config


def data_to_spacy(
    corpus: Corpus,
    output_dir: Path | str,
    eval_corpus: Corpus | None = None,
    base_model: str | None = None,
    lang: str = "en",
    eval_split: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``train.spacy``, ``dev.spacy`` and ``config.cfg`` to ``output_dir``.

    Returns ``{"train": path, "dev": path, "config": path, "n_train", "n_dev", "components",
    "command"}``, where ``command`` is the ``python -m spacy train`` line that trains on them.
    """
    from spacy.tokens import DocBin

    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"'{out}' is a file: pass a directory to write train.spacy, dev.spacy and config.cfg to")
    nlp = load_pipeline(base_model, lang)
    train_keys, dev_keys, dev = held_out(corpus, eval_corpus, eval_split, seed)
    if not dev_keys:
        raise UserError("No texts left for dev.spacy (spacy train needs some): raise --eval-split or pass --eval DATASETS")
    components = corpus.components()
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "train.spacy", "dev": out / "dev.spacy", "config": out / "config.cfg"}
    # A base model's NER keeps the labels nobody answered about: their entities stay missing.
    base_ner = "ner" in components and "ner" in nlp.pipe_names
    unknown = {**base_says(nlp, corpus, train_keys, False)[0], **base_says(nlp, dev, dev_keys, False)[0]} if base_ner else {}
    DocBin(docs=[corpus.doc(nlp, k, unknown.get(k, ())) for k in train_keys], store_user_data=False).to_disk(paths["train"])
    DocBin(docs=[dev.doc(nlp, k, unknown.get(k, ())) for k in dev_keys], store_user_data=False).to_disk(paths["dev"])
    build_config(components, nlp.lang or lang, base_model).to_disk(paths["config"])
    command = (f"python -m spacy train {paths['config']} --paths.train {paths['train']} --paths.dev {paths['dev']}"
               f" --output {out / 'model'}")
    return {**{k: str(v) for k, v in paths.items()}, "n_train": len(train_keys), "n_dev": len(dev_keys),
            "components": components, "command": command}
