"""Periodic refits: retrain from the starting weights on every answer so far, off the request path.

Online updates see each answer in one step (and a few replays), with a small learning rate, so
the in-loop model lags what its own answers can teach: on SEC filings, 100 hand-annotated
sentences gave F1 0.526 in the loop and 0.681 when `binanno train` trained on the same answers
(bench/README.md). A refit closes that gap the way `train` does: back to the starting weights,
a fresh optimizer, several shuffled passes over every remembered text (with the same objective,
anchor and rehearsal as the online steps), then the online steps go on from there. Refits come
each time the number of answered texts has grown by ``growth`` (8, 16, 32, ... texts for a new
NER), so their total cost stays a small multiple of the last one.

Measured (bench/README.md, "NER from a start model that is already good"): with 4 passes in
steps of 32 texts a refit changed nothing (SEC from a good start, 3 seeds: 0.757 / 0.747 / 0.755
against 0.767 / 0.759 / 0.754); with ``binanno train``'s 10 passes in steps of 8, the in-loop model
reaches what `train` gets from the same answers (SEC by hand, 160 sentences: 0.790 in the loop,
0.789 trained, 0.746 without refits). On by default for a new NER (``blank:LANG``), which has nothing
a refit could make it forget: with patterns and ner.teach's defaults its in-loop F1 at 20 minutes went
from 0.000 to 0.459 on BTC (3 seeds), and on SEC filings from 0.005 to 0.387 at 50. The first refit at
8 texts rather than 32: on SEC (long sentences, 20-30 s a corrected one) 32 texts took more than 20
minutes, and F1 there went from 0.000 to 0.693 (BTC and WNUT 17 within their seed noise). A refit ends on
the running average of its steps' weights (``refit_average``, spaCy's ``use_averages``), not on its last
step's: a refit is a fresh training run whose final weights vary (BTC seed 0 fell from 0.55 to 0.35 after
the refit at 256 texts); with the average, ner.teach's defaults on a new NER went from 0.693 / 0.727 to
0.722 / 0.770 at 20 / 60 minutes on SEC and from 0.427 / 0.387 to 0.477 / 0.449 on BTC (3 seeds).

A pretrained NER refits from the weights it was loaded with, rehearsing what they found
(binanno.learning.rehearsal), as its online steps do; off by default (``refit`` 8 turns it on): in the
server a refit on hundreds of answers holds the worker for seconds, the look-ahead ran dry and one round
trip waited 15 s (bench/bench_latency.py --answers 1000; p95 30 ms). With the first refit
at 8 texts and the average, ner.teach's defaults from en_core_web_sm, 3 seeds, at 20 / 60 minutes:
BTC 0.373 / 0.548 -> 0.419 / 0.534 (the mean of the last ten minutes level: 0.536 / 0.535), SEC
0.561 / 0.694 -> 0.573 / 0.730, WNUT 17 0.195 / 0.196 -> 0.182 / 0.210, and WNUT 17's worst dip below
the start -0.043 -> -0.019; manual annotation in the loop gains far more (BTC 0.441 -> 0.549 at 20
minutes, SEC 0.533 -> 0.687). A simulated hour took 173-210 s of wall time instead of 148-196 s
(bench/README.md, "Refits for every NER").
"""

from __future__ import annotations

import math


class RefitSchedule:
    """When to refit: at ``first`` answered texts, then each time their number grows ``growth`` times."""

    def __init__(self, first: int, growth: float = 2.0) -> None:
        self.first, self.growth = max(0, int(first)), max(1.1, float(growth))
        self.next = self.first
        self.done = 0

    def due(self, answered: int) -> bool:
        """Whether a refit is due with ``answered`` texts remembered (moves the next mark on if so)."""
        if not self.first or answered < self.next:
            return False
        while self.next <= answered:
            self.next = math.ceil(self.next * self.growth)
        self.done += 1
        return True
