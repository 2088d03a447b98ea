"""The feature rows of texts seen lately, kept so that scoring a pool again is a matrix product.

textcat.teach's pool sorter scores its whole pool (up to 20,000 questions) again after every
update. Extracting the hashed n-grams of 20,000 texts takes seconds, and rebuilding their sparse
matrix row by row from a per-text cache still took ~0.2 s an update; a :class:`FeatureStore` keeps
the rows in a few large CSR chunks instead, so scoring every stored text is one sparse product per
chunk and a gather by index.

Texts are keyed by their string. The store holds at most about twice ``size`` rows: past that it
is compacted to the ``size`` rows used most recently, plus the pinned ones (answered texts, which
every refit uses).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


class FeatureStore:
    """Rows of ``vectorize(texts)`` by text, in CSR chunks; see the module docstring."""

    def __init__(self, vectorize: Callable[[list[str]], Any], size: int) -> None:
        self.vectorize, self.size = vectorize, size
        self.index: dict[str, int] = {}  # text -> row
        self.chunks: list[Any] = []  # CSR matrices, rows in order
        self.used: list[int] = []  # per row: the tick of its last use
        self.pinned: set[str] = set()
        self._tick = 0
        self._matrix: Any = None  # all chunks stacked, built when needed

    def __len__(self) -> int:
        return len(self.index)

    def ids(self, texts: list[str]) -> np.ndarray:
        """Row ids of ``texts``, extracting the features of the ones not stored yet (as one new chunk)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.index]
        if missing:
            if len(self.index) + len(missing) > 2 * max(self.size, 1) + len(self.pinned):
                self._compact(keep=set(texts))
            start = len(self.used)
            self.chunks.append(self.vectorize(missing).tocsr())
            self.index.update((text, start + i) for i, text in enumerate(missing))
            self.used.extend([0] * len(missing))
            self._matrix = None
        self._tick += 1
        ids = np.fromiter((self.index[t] for t in texts), dtype=np.int64, count=len(texts))
        for i in ids.tolist():
            self.used[i] = self._tick
        return ids

    def matrix(self, texts: list[str]) -> Any:
        """The CSR rows of ``texts``, in order."""
        from scipy.sparse import vstack

        ids = self.ids(texts)
        if len(ids) * 4 >= len(self.used) or len(self.chunks) == 1:  # most of the store: stack it once
            return self.stacked()[ids]
        # A few rows (a stream scored 16 texts at a time): slice the chunks they are in, keep the order.
        offsets = np.cumsum([0] + [c.shape[0] for c in self.chunks])
        which = np.searchsorted(offsets, ids, side="right") - 1
        parts, positions = [], []
        for c in np.unique(which).tolist():
            here = np.nonzero(which == c)[0]
            parts.append(self.chunks[c][ids[here] - offsets[c]])
            positions.append(here)
        rows = vstack(parts, format="csr")
        return rows[np.argsort(np.concatenate(positions), kind="stable")]

    def stacked(self) -> Any:
        """Every stored row as one CSR matrix (kept until the store changes)."""
        from scipy.sparse import vstack

        if self._matrix is None:
            self._matrix = vstack(self.chunks, format="csr") if len(self.chunks) > 1 else self.chunks[0]
            self.chunks = [self._matrix]
        return self._matrix

    def _compact(self, keep: set[str]) -> None:
        """Keep the ``size`` rows used last, the pinned ones and ``keep``; drop the rest."""
        by_use = sorted(self.index.items(), key=lambda item: self.used[item[1]], reverse=True)
        kept = [(t, i) for n, (t, i) in enumerate(by_use) if n < self.size or t in self.pinned or t in keep]
        rows = np.array([i for _, i in kept], dtype=np.int64)
        matrix = self.stacked()[rows] if len(rows) else None
        self.chunks = [matrix] if matrix is not None else []
        self.used = [self.used[i] for i in rows.tolist()]
        self.index = {t: n for n, (t, _) in enumerate(kept)}
        self._matrix = matrix
