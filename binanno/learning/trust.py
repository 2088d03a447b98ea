"""How far to trust the starting model: the share of its sure entities that the answers confirm.

Anchor and rehearsal (binanno.learning.anchor, .rehearsal) keep what a pretrained NER knew. That
is right when it knew it, and wrong when its entities are wrong for this data: en_core_web_sm's
precision is 0.08 on SEC filings, 0.20 on WNUT 17, 0.33 on BTC tweets with their label maps, and
pulling towards such a model (or rehearsing its entities) held SEC's in-loop F1 at 0.55 after an
hour where unanchored updates reached 0.70 (bench/README.md). So both are scaled by the starting
model's measured precision: on every answered text, each entity the starting model was sure of
(beam probability at least the rehearsal threshold) that the answers settle counts as right
(accepted, or in a complete annotation) or wrong (rejected, or left out of a complete one).
Trust is the posterior mean of that rate under a uniform prior, so it starts at 0.5 and follows
the answers; nothing in it is fitted to a data set.
"""

from __future__ import annotations

Key = tuple[int, int, str]


def settled(sure: list[Key], accepted: set[Key], rejected: set[Key], complete: set[Key] | None) -> tuple[int, int]:
    """(right, wrong) among the starting model's sure entities ``sure`` of one text, by its answers."""
    if complete is not None:
        right = sum(1 for key in sure if key in complete)
        return right, len(sure) - right
    return sum(1 for key in sure if key in accepted), sum(1 for key in sure if key in rejected)


class StartTrust:
    """The answers' verdict on the starting model's sure entities, per text, and their overall rate."""

    def __init__(self) -> None:
        self.counts: dict[int, tuple[int, int]] = {}
        self.right = self.wrong = 0

    def record(self, key: int, right: int, wrong: int) -> None:
        """Set text ``key``'s (right, wrong) counts (a later answer on the text replaces them)."""
        old_right, old_wrong = self.counts.get(key, (0, 0))
        self.right += right - old_right
        self.wrong += wrong - old_wrong
        self.counts[key] = (right, wrong)

    @property
    def value(self) -> float:
        """P(a sure entity of the starting model is right): (right + 1) / (settled + 2)."""
        return (self.right + 1) / (self.right + self.wrong + 2)
