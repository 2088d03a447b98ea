"""``prodigy.models.textcat`` at binanno's path: ``TextClassifier`` is the spaCy text classifier adapter itself.

``TextClassifier(nlp, label=["SPAM"])`` is callable on a stream, yielding ``(score, task)`` per
text and label, and learns from answers with ``update(answers)``.
"""

from __future__ import annotations

from .textcat_spacy import SpacyTextcat, infer_exclusive

TextClassifier = SpacyTextcat

__all__ = ["TextClassifier", "infer_exclusive"]
