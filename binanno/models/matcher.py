"""``prodigy.models.matcher`` at binanno's path: the pattern matcher of :mod:`binanno.models.patterns`.

``PatternMatcher(nlp, combine_matches=True, all_examples=True).from_disk("patterns.jsonl")``
yields ``(score, task)`` per match and counts accepts per pattern in ``update``.
"""

from __future__ import annotations

from .patterns import PatternMatcher

__all__ = ["PatternMatcher"]
