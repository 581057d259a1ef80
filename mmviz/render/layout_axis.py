"""The compressed address axis of the layout picture, and how a long axis wraps into rows.

A real process spans 2**47 bytes and maps a few megabytes of it, so a to-scale axis would
show nothing. The axis is built from the mapped ranges only: VMAs keep their relative
sizes (to scale while the sizes are comparable, on a log scale when a process mixes 4 KiB
pages with gigabytes), a small hole is drawn to scale, and every large hole becomes a fixed
break marked "//" with its size written under it. Standard library only (numpy is used by
`xs` when a caller passes arrays).
"""

from __future__ import annotations

import bisect
import math

from ..model.uapi import PAGE_SIZE

BREAK_W_LINEAR = 1.0        # width of a "//" break, in units of the smallest VMA
BREAK_W_LOG = 2.4
LINEAR_MAX_RATIO = 64       # larger size ratios switch the axis to a log scale
SMALL_GAP_UNITS = 8         # holes up to this many units are drawn to scale (linear axis)
SMALL_GAP_PAGES_LOG = 16    # ... or up to this many pages on a log axis
DENSE_VMAS = 1500           # above this many VMAs, bin boxes to pixels


def _clusters(spans):
    """Merge sorted (start, end) spans into [start, end] clusters of overlapping spans."""
    clusters = []
    for s, e in spans:
        if clusters and s <= clusters[-1][1]:
            if e > clusters[-1][1]:
                clusters[-1][1] = e
        else:
            clusters.append([s, e])
    return clusters


def _elementary(spans, clusters):
    """The intervals between consecutive span bounds that lie inside a cluster."""
    bounds = sorted({s for s, _ in spans} | {e for _, e in spans})
    elem, ci = [], 0
    for a, b in zip(bounds, bounds[1:]):
        while ci < len(clusters) and clusters[ci][1] <= a:
            ci += 1
        if ci < len(clusters) and clusters[ci][0] <= a and b <= clusters[ci][1]:
            elem.append((a, b))
    return elem


class AddressAxis:
    """Maps addresses to x positions: mapped stretches keep their size, large holes break.

    Built from a list of (start, end) ranges: the VMAs of one snapshot, or of every snapshot
    of a trace so that all its pictures share one axis and boxes do not jump between steps.
    `pieces` is a list of (kind, addr_start, addr_end, x_start, x_end) with kind "map" (a
    stretch some range covers), "hole" (a small gap, to scale) or "break".
    """

    def __init__(self, ranges):
        spans = sorted({(int(s), int(e)) for s, e in ranges if e > s})
        self.empty = not spans
        self.pieces = []
        self.total = 0.0
        self.scale = "linear"
        self._np = None
        if self.empty:
            self._starts = []
            return
        clusters = _clusters(spans)
        elem = _elementary(spans, clusters)
        pages = [max((b - a) / PAGE_SIZE, 1e-9) for a, b in elem]
        unit = min(pages)
        self.scale = "linear" if max(pages) / unit <= LINEAR_MAX_RATIO else "log"
        self.unit_pages = unit
        self._lay_out(clusters, elem, pages, unit)
        self._starts = [p[1] for p in self.pieces]

    def _width(self, pages, unit):
        if self.scale == "linear":
            return pages / unit
        return 1.0 + math.log2(max(pages / unit, 1.0))

    def _gap(self, gs, ge, unit):
        g = (ge - gs) / PAGE_SIZE
        if self.scale == "linear" and g / unit <= SMALL_GAP_UNITS:
            return g / unit, "hole"
        if self.scale == "log" and g <= SMALL_GAP_PAGES_LOG:
            return 0.6, "hole"
        return (BREAK_W_LINEAR if self.scale == "linear" else BREAK_W_LOG), "break"

    def _lay_out(self, clusters, elem, pages, unit):
        x, ei = 0.0, 0
        for k, (cs, ce) in enumerate(clusters):
            if k:
                gs = clusters[k - 1][1]
                w, kind = self._gap(gs, cs, unit)
                self.pieces.append((kind, gs, cs, x, x + w))
                x += w
            while ei < len(elem) and elem[ei][1] <= ce:
                a, b = elem[ei]
                w = self._width(pages[ei], unit)
                self.pieces.append(("map", a, b, x, x + w))
                x += w
                ei += 1
        self.total = x

    def x(self, addr) -> float:
        """The x position of an address (addresses outside the axis clamp to its ends)."""
        if self.empty:
            return 0.0
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0:
            return 0.0
        kind, a0, a1, x0, x1 = self.pieces[i]
        if addr >= a1:
            return x1
        return x0 + (addr - a0) / (a1 - a0) * (x1 - x0)

    def xs(self, addrs):
        """`x` of every address in a numpy array, vectorised (for binned pictures)."""
        import numpy as np
        addrs = np.asarray(addrs, dtype=np.float64)
        if self.empty:
            return np.zeros_like(addrs)
        if self._np is None:
            a0 = np.array([p[1] for p in self.pieces], dtype=np.float64)
            a1 = np.array([p[2] for p in self.pieces], dtype=np.float64)
            x0 = np.array([p[3] for p in self.pieces])
            x1 = np.array([p[4] for p in self.pieces])
            self._np = (a0, a1, x0, x1)
        a0, a1, x0, x1 = self._np
        i = np.clip(np.searchsorted(a0, addrs, side="right") - 1, 0, len(a0) - 1)
        frac = np.clip((addrs - a0[i]) / (a1[i] - a0[i]), 0.0, 1.0)
        out = x0[i] + frac * (x1[i] - x0[i])
        return np.where(addrs < a0[0], 0.0, out)

    def breaks(self):
        return [p for p in self.pieces if p[0] == "break"]

    def covered(self):
        """Address intervals the axis draws as mapped-or-hole (merged), for 'unmapped' marks."""
        out = []
        for kind, a0, a1, _, _ in self.pieces:
            if kind == "break":
                continue
            if out and out[-1][1] == a0:
                out[-1][1] = a1
            else:
                out.append([a0, a1])
        return out


def vma_ranges(snapshots) -> list:
    """(start, end) of every VMA in the snapshots, each shared chunk of views read once (a
    30,000-VMA trace has about 500 chunks, not 30,000 views per event)."""
    seen, out = set(), []
    for s in snapshots:
        vmas = s.vmas
        chunks = getattr(vmas, "chunks", None)
        if chunks is None:
            chunks = (tuple(vmas),)
        for c in chunks:
            if id(c) in seen:
                continue
            seen.add(id(c))
            out.extend((v.start, v.end) for v in c)
    return out


def axis_for(snapshots) -> AddressAxis:
    """One axis for several snapshots (e.g. all of a trace's), so their pictures line up."""
    return AddressAxis(vma_ranges(list(snapshots)))


def auto_rows(n):
    """How many rows a picture of n VMAs wraps into."""
    if n <= 40:
        return 1
    if n > DENSE_VMAS:
        return 4
    return min(10, math.ceil(n / 30))


def row_cuts(axis, rows):
    """x positions where rows start (len rows + 1). Rows are filled like lines of text: each
    ends at the last break that fits (a break is the natural place to wrap), or is cut hard
    when no break falls in its last quarter."""
    total = axis.total
    if rows <= 1 or total <= 0:
        return [0.0, total]
    mids = [(p[3] + p[4]) / 2 for p in axis.breaks()]
    for stretch in (1.0, 1.04, 1.08, 1.15, 1.25, 1.4, 1.6, 2.0):
        cap = total / rows * stretch
        cuts = [0.0]
        while total - cuts[-1] > cap:
            lo, hi = cuts[-1] + 0.75 * cap, cuts[-1] + cap
            j = bisect.bisect_right(mids, hi) - 1
            cuts.append(mids[j] if j >= 0 and mids[j] >= lo else hi)
        cuts.append(total)
        if len(cuts) - 1 <= rows:
            return cuts
    return cuts


def split_span(x0, x1, cuts):
    """[(row, local_x0, local_x1)] pieces of the global span [x0, x1)."""
    out = []
    r = max(bisect.bisect_right(cuts, x0) - 1, 0)
    r = min(r, len(cuts) - 2)
    while r < len(cuts) - 1:
        lo, hi = cuts[r], cuts[r + 1]
        a, b = max(x0, lo), min(x1, hi)
        if b > a or (x0 == x1 and lo <= x0 <= hi):
            out.append((r, a - lo, b - lo))
        if x1 <= hi:
            break
        r += 1
    return out


def uncovered(intervals, vmas):
    """Parts of `intervals` ([a, b] lists) that no VMA covers."""
    spans = sorted((v.start, v.end) for v in vmas)
    out, j = [], 0
    for a, b in intervals:
        cur = a
        while j < len(spans) and spans[j][1] <= cur:
            j += 1
        k = j
        while k < len(spans) and spans[k][0] < b:
            s, e = spans[k]
            if s > cur:
                out.append((cur, min(s, b)))
            cur = max(cur, e)
            k += 1
        if cur < b:
            out.append((cur, b))
    return out


def detail_window(ranges, focus, neighbours=2):
    """The address window of a detail band: `focus` (lo, hi) widened to take in `neighbours`
    mapped ranges on each side (from `ranges`, e.g. `vma_ranges` of a trace)."""
    lo, hi = focus
    spans = sorted(set(ranges))
    starts = [s for s, _ in spans]
    i = bisect.bisect_left(starts, lo)
    before = [s for s, e in spans[max(0, i - 4 * neighbours):i] if e <= lo]
    if before:
        lo = min(lo, sorted(before)[-neighbours:][0])
    j = bisect.bisect_left(starts, hi)
    after = [e for s, e in spans[j:j + neighbours]]
    if after:
        hi = max(hi, max(after))
    for s, e in spans[max(0, i - 1):j]:       # a range straddling an end is shown whole
        if s < lo < e:
            lo = s
        if s < hi < e:
            hi = e
    return lo, hi
