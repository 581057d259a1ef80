"""Binning for address spaces too big to draw box by box (numpy; no drawing here).

Each row is cut into columns about two pixels wide; in each column every kind of VMA gets
a bar whose height is the share of the column it covers (quantised to eighths, at least one
eighth for a kind that is there, so rare kinds stay visible). Each kind then becomes one
step-shaped polygon per row: a single hatched path draws far faster than thousands of bars.

`VmaArrays` turns a snapshot's VMAs into arrays, converting each shared chunk of views once,
so the next snapshot of a 30,000-VMA trace costs what changed.
"""

from __future__ import annotations

import math

from .palette import KINDS, vma_kind

KIND_ORDER = tuple(KINDS)
KIND_CODE = {k: i for i, k in enumerate(KIND_ORDER)}


class VmaArrays:
    """start, end, kind code and detached flag of every VMA of a VmaSet, as numpy arrays,
    cached per chunk of views (chunks are shared between the snapshots of a trace)."""

    def __init__(self, limit=20000):
        self._chunks = {}
        self.limit = limit

    def _chunk(self, chunk):
        import numpy as np
        hit = self._chunks.get(id(chunk))
        if hit is not None and hit[0] is chunk:
            return hit[1]
        arr = (np.array([v.start for v in chunk], dtype=np.float64),
               np.array([v.end for v in chunk], dtype=np.float64),
               np.array([KIND_CODE[vma_kind(v)] for v in chunk], dtype=np.int8),
               np.array([v.detached for v in chunk], dtype=bool))
        if len(self._chunks) > self.limit:
            self._chunks.clear()
        self._chunks[id(chunk)] = (chunk, arr)
        return arr

    def of(self, vmas):
        import numpy as np
        chunks = getattr(vmas, "chunks", None)
        if chunks is None:
            chunks = (tuple(vmas),)
        parts = [self._chunk(c) for c in chunks if c]
        if not parts:
            empty = np.zeros(0)
            return empty, empty, np.zeros(0, dtype=np.int8), np.zeros(0, dtype=bool)
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))


def _coverage(a, b, edges, binw):
    """Share of each column [edges[i], edges[i+1]) covered by the intervals [a, b)."""
    import numpy as np
    order = np.argsort(a, kind="stable")
    a, b = a[order], b[order]
    widths = b - a
    cum = np.cumsum(widths)
    xp = np.empty(2 * len(a))
    fp = np.empty_like(xp)
    xp[0::2], xp[1::2] = a, b
    fp[0::2], fp[1::2] = cum - widths, cum
    c = np.interp(edges, np.maximum.accumulate(xp), fp)
    return np.diff(c) / binw


def _eighths(cover):
    """Per column, each kind's height in eighths of the row (rare kinds at least 1/8)."""
    import numpy as np
    total = cover.sum(axis=0)
    share = np.where(total > 0, cover / np.maximum(total, 1e-12), 0.0)
    share = np.where(share > 0, np.maximum(share, 1 / 8), 0.0)
    share = share / np.maximum(share.sum(axis=0), 1e-12)
    cum = np.round(np.cumsum(share, axis=0) * 8)
    key = np.diff(np.vstack([np.zeros((1, cover.shape[1])), cum]), axis=0).astype(np.int64)
    key[:, total < 0.2] = 0                          # mostly empty column: draw nothing
    return key / 8


def _row_polygons(q, edges, y0, y1):
    """{kind index: vertices} of the step polygons of one row."""
    import numpy as np
    cum_lo = np.vstack([np.zeros((1, q.shape[1])), np.cumsum(q, axis=0)[:-1]])
    cum_hi = cum_lo + q
    xs = np.repeat(edges, 2)[1:-1]                 # x0 x1 x1 x2 x2 ... per column
    out = {}
    for ki in range(q.shape[0]):
        if not q[ki].any():
            continue
        top = y0 + np.repeat(cum_hi[ki], 2) * (y1 - y0)
        bot = y0 + np.repeat(cum_lo[ki], 2) * (y1 - y0)
        out[ki] = np.concatenate([np.column_stack([xs, top]),
                                  np.column_stack([xs[::-1], bot[::-1]])])
    return out


def binned_polygons(gx0, gx1, kinds, cuts, row_len, px_x, row_box):
    """{kind name: [vertices per row]} for attached VMAs at global x [gx0, gx1).

    cuts: the rows' start positions (see layout_axis.row_cuts); row_box(r) -> (y0, y1).
    """
    import numpy as np
    binw = 2.0 / px_x
    nb = int(math.ceil(row_len / binw)) + 1
    edges = np.arange(nb + 1) * binw
    polys = {k: [] for k in KIND_ORDER}
    for r in range(len(cuts) - 1):
        lo, hi = cuts[r], cuts[r + 1]
        m = (gx1 > lo) & (gx0 < hi)
        if not m.any():
            continue
        a, b = np.clip(gx0[m], lo, hi) - lo, np.clip(gx1[m], lo, hi) - lo
        kk = kinds[m]
        cover = np.zeros((len(KIND_ORDER), nb))
        for ki in range(len(KIND_ORDER)):
            sel = kk == ki
            if sel.any():
                cover[ki] = _coverage(a[sel], b[sel], edges, binw)
        y0, y1 = row_box(r)
        for ki, verts in _row_polygons(_eighths(cover), edges, y0, y1).items():
            polys[KIND_ORDER[ki]].append(verts)
    return polys
