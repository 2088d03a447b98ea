"""Which backend a MODEL string picks (placeholder until the full scheme lands)."""

from __future__ import annotations

from typing import Any

from ..errors import UserError


def load_ner(spec: str, labels: list[str], **settings: Any) -> Any:
    if spec.startswith("hf:"):
        raise UserError("hf: models are not available yet")
    from .spacy_ner import SpacyNER

    return SpacyNER.load(spec, labels, **settings)


def load_textcat(spec: str, labels: list[str], exclusive: bool = False, **settings: Any) -> Any:
    raise UserError("textcat models are not available yet")
