"""Shared Hugging Face fixtures: a tiny BERT encoder built from a config, saved to a temporary directory.

A 2-layer BERT (hidden size 32, 2 heads, intermediate 64, 64 positions) with a WordPiece
vocabulary made from the test texts plus every letter, digit and punctuation mark (alone
and as a ``##`` continuation), so any ASCII text tokenizes without [UNK]. Its weights are
random, which is all the tests need: scores, directions of updates, windows and round trips.
Built once per test process (well under a second); the directory holds a plain ``BertModel``
like a sentence-transformers encoder, so the backends add their own heads.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import string
import tempfile
from pathlib import Path

from fixtures_ner import ORGS, PEOPLE, TEMPLATES
from fixtures_textcat import HAM, SPAM

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# One subword that spaCy splits in two ("gon", "na"): a word without a subword of its own.
EXTRA_WORDS = ["gonna"]
MAX_POSITIONS = 64


def vocabulary(texts: list[str]) -> list[str]:
    """Special tokens, single characters, ``##`` characters and the lowercased words of ``texts``."""
    chars = sorted(set(string.ascii_lowercase + string.digits + string.punctuation))
    words = sorted({w for t in texts for w in re.findall(r"\w+", t.lower())} - set(chars) | set(EXTRA_WORDS))
    return SPECIAL + chars + [f"##{c}" for c in chars] + words


@functools.cache
def tiny_bert_dir() -> Path:
    """A directory with a tiny random BERT encoder and its tokenizer (see the module docstring)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    texts = SPAM + HAM + PEOPLE + ORGS + TEMPLATES
    root = Path(tempfile.mkdtemp(prefix="binanno-hf-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    path = root / "tiny-bert"
    path.mkdir()
    vocab = vocabulary(texts)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(vocab=str(path / "vocab.txt"))
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=MAX_POSITIONS)
    torch.manual_seed(0)
    model = BertModel(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
