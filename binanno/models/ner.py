"""``prodigy.models.ner`` at binanno's path: ``EntityRecognizer`` is the spaCy NER adapter itself.

``EntityRecognizer(nlp, label=["PERSON"])`` is callable on a stream, yielding ``(score, task)``
per candidate entity, and learns from answers with ``update(answers)``.
"""

from __future__ import annotations

from .spacy_ner import SpacyNER

EntityRecognizer = SpacyNER

__all__ = ["EntityRecognizer"]
