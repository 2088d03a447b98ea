"""What each kind of question costs an annotator, in seconds: the simulations' clock.

A sentence annotated by hand costs a fixed part (reading the card, pressing accept), a part
per token (reading) and a part per entity (marking it). Correcting a pre-annotated sentence
costs the same fixed and reading parts plus a part per edit: a span deleted, added, relabelled
or moved; a sentence the model got right costs only the reading. Verifying a sentence ("is
every entity right?") is that reading and one key. A yes/no question about one highlighted
span costs ``decision`` whatever the sentence's length. A choice card about one span (which
label, which boundary) is that decision plus ``option`` per option read, "none of these" included.

The defaults come from published timings (bench/README.md cites them): clinical NER by hand,
about 11 words and 1.35 entities a sentence, took 7.8-16.6 s a sentence and 0.65-1.5 s a word
(Wei et al., JAMIA 2019); correcting good pre-annotations was 14-35 % faster than annotating
from scratch (Lingren et al., JAMIA 2014; Felt et al., LRE 2014). With these defaults such a
sentence costs 10.2 s by hand and 7.5 s to correct when the model has it right (26 % less).
No study we found times a binary decision; 3 s is kept from the earlier simulations. Choosing
among n options takes longer as n grows (Hick, QJEP 1952; Hyman, JEP 1953); no annotation study we
found times it, so each option costs reading about two tokens (1 s). Every
figure is a setting (``ner.simulate --cost-*``) and can be refitted from a user's own answers:
the page stores each answer's time on screen (``_view_seconds``) and ``stats`` prints the
seconds per question type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Costs:
    """Annotator seconds: per yes/no decision, and the parts of a sentence-level card."""

    decision: float = 3.0  # one yes/no about one highlighted span (or one label)
    base: float = 2.0  # a sentence card: looking at it and answering
    token: float = 0.5  # reading, per token
    entity: float = 2.0  # marking one entity by hand
    edit: float = 2.0  # one change to a pre-annotated span (delete, add, relabel, move)
    option: float = 1.0  # reading one option of a label-choice or boundary-fix card

    def choice(self, options: int) -> float:
        """A choice card about one span with ``options`` options ("none of these" included)."""
        return self.decision + self.option * options

    def manual(self, tokens: int, entities: int) -> float:
        """Annotating a sentence from scratch."""
        return self.base + self.token * tokens + self.entity * entities

    def correct(self, tokens: int, edits: float) -> float:
        """Correcting a pre-annotated sentence with ``edits`` changes."""
        return self.base + self.token * tokens + self.edit * edits

    def verify(self, tokens: int) -> float:
        """Reading a pre-annotated sentence and saying yes or no to all of it."""
        return self.base + self.token * tokens


def edits(predicted: set[tuple[int, int, str]], gold: set[tuple[int, int, str]]) -> int:
    """Changes that turn ``predicted`` spans into ``gold``: a wrong span that overlaps a missing
    one is one fix (relabel or move), every other wrong span a delete and every other missing one an add."""
    wrong, missing = sorted(predicted - gold), sorted(gold - predicted)
    fixes, used = 0, set()
    for s, e, _ in wrong:
        for j, (gs, ge, _) in enumerate(missing):
            if j not in used and s < ge and gs < e:
                used.add(j)
                fixes += 1
                break
    return len(wrong) + len(missing) - fixes
