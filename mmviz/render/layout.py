"""The address-space picture: every VMA a box on an address axis whose empty stretches are
compressed.

A real process spans 2**47 bytes and maps a few megabytes of it, so a to-scale axis would
show nothing. Here the axis is built from the mapped ranges only: VMAs keep their relative
sizes (to scale while the sizes are comparable, on a log scale when a process mixes 4 KiB
pages with gigabytes), a small hole is drawn to scale, and every large hole becomes a fixed
break marked "//" with its size written under it.

Kinds of VMA are told apart by a colour *and* a hatch or outline (Okabe–Ito palette, safe
for colour-blind readers), with a legend naming each one:

    anonymous        sky blue, plain
    file-backed      orange, "//" hatch
    VM_SPECIAL       reddish purple, "xx" hatch
    hidden from rmap bluish-green dotted outline, "o" hatch
    write-locked     thick blue outline
    detached         faded, dashed outline (in flight: out of the tree, still referenced)
    changed          vermillion halo and a ▼ marker (the VMAs a step changed)

Everything is drawn with collections (one per style), so 65,530 VMAs draw in about a
second; boxes narrower than a pixel or two are binned, and labels are dropped where they
would not fit. Pure functions: snapshot in, Figure / PNG / SVG out.
"""

from __future__ import annotations

import bisect
import math
import os

from ._mpl import OKABE_ITO as C, human_bytes, new_figure, rc, to_png, to_svg

PAGE = 4096

#: Base kinds: (fill, edge/hatch colour, hatch, legend text)
KINDS = {
    "anon": (C["sky"], "#1f5f85", "", "anonymous"),
    "file": (C["orange"], "#7a5200", "//", "file-backed"),
    "special": (C["purple"], "#6e2f58", "xx", "VM_SPECIAL (never merges)"),
}
HIDDEN_STYLE = dict(edge=C["green"], hatch="o", linestyle=(0, (1.2, 1.2)), lw=2.4,
                    label="hidden from rmap (i_mmap_rwsem held)")
LOCKED_STYLE = dict(edge=C["blue"], lw=3.2, label="write-locked (vma_start_write)")
DETACHED_STYLE = dict(alpha=0.33, linestyle=(0, (4, 2)), label="detached (in flight)")
CHANGED_STYLE = dict(edge=C["vermillion"], lw=3.5, label="changed by this step")
UNMAPPED_STYLE = dict(edge="#9a9a9a", linestyle=(0, (1, 2)), label="unmapped")

BREAK_W_LINEAR = 1.0        # width of a "//" break, in units of the smallest VMA
BREAK_W_LOG = 2.4
LINEAR_MAX_RATIO = 64       # larger size ratios switch the axis to a log scale
SMALL_GAP_UNITS = 8         # holes up to this many units are drawn to scale (linear axis)
SMALL_GAP_PAGES_LOG = 16    # ... or up to this many pages on a log axis
DENSE_VMAS = 1500           # above this many VMAs, bin boxes to pixels
FONT = 9
CHAR_PX = 6.9               # average width of one FONT-point character at 100 dpi
LINE_PX = 14.5


# --- the compressed axis -----------------------------------------------------------------

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
        if self.empty:
            return
        clusters = []
        for s, e in spans:
            if clusters and s <= clusters[-1][1]:
                if e > clusters[-1][1]:
                    clusters[-1][1] = e
            else:
                clusters.append([s, e])
        bounds = sorted({s for s, _ in spans} | {e for _, e in spans})
        # elementary intervals inside clusters
        elem = []
        ci = 0
        for a, b in zip(bounds, bounds[1:]):
            while ci < len(clusters) and clusters[ci][1] <= a:
                ci += 1
            if ci < len(clusters) and clusters[ci][0] <= a and b <= clusters[ci][1]:
                elem.append((a, b))
        pages = [max((b - a) / PAGE, 1e-9) for a, b in elem]
        unit = min(pages)
        big = max(pages)
        self.scale = "linear" if big / unit <= LINEAR_MAX_RATIO else "log"
        self.unit_pages = unit

        def width(p):
            if self.scale == "linear":
                return p / unit
            return 1.0 + math.log2(max(p / unit, 1.0))

        x = 0.0
        ei = 0
        for k, (cs, ce) in enumerate(clusters):
            if k:
                gs, ge = clusters[k - 1][1], cs
                g = (ge - gs) / PAGE
                if self.scale == "linear" and g / unit <= SMALL_GAP_UNITS:
                    w, kind = g / unit, "hole"
                elif self.scale == "log" and g <= SMALL_GAP_PAGES_LOG:
                    w, kind = 0.6, "hole"
                else:
                    w, kind = (BREAK_W_LINEAR if self.scale == "linear" else BREAK_W_LOG), "break"
                self.pieces.append((kind, gs, ge, x, x + w))
                x += w
            while ei < len(elem) and elem[ei][1] <= ce:
                a, b = elem[ei]
                w = width(pages[ei])
                self.pieces.append(("map", a, b, x, x + w))
                x += w
                ei += 1
        self.total = x
        self._starts = [p[1] for p in self.pieces]

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


def axis_for(snapshots) -> AddressAxis:
    """One axis for several snapshots (e.g. all of a trace's), so their pictures line up."""
    ranges = []
    for s in snapshots:
        ranges.extend((v.start, v.end) for v in s.vmas)
    return AddressAxis(ranges)


# --- rows: a long axis wraps like a paragraph ------------------------------------------------

def _row_cuts(axis, rows):
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


def _split(x0, x1, cuts):
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


# --- labels ------------------------------------------------------------------------------------

def _short_file(label: str) -> str:
    base = os.path.basename(label.rstrip("/")) or label
    return base


def _fit(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    if chars <= 1:
        return ""
    return text[:chars - 1] + "…"


# Flags nearly every VMA has (or that perms already show): the label names only the others,
# e.g. VM_HUGEPAGE that stopped a merge, or VM_IO VM_PFNMAP of a device mapping.
ROUTINE_FLAGS = frozenset({"VM_READ", "VM_WRITE", "VM_EXEC", "VM_SHARED", "VM_MAYREAD",
                           "VM_MAYWRITE", "VM_MAYEXEC", "VM_MAYSHARE", "VM_SOFTDIRTY",
                           "VM_ACCOUNT"})


def _where(v, names):
    name = names.get(v.id) if names else None
    if v.file:
        return _short_file(name or v.file)
    return name or "anonymous"


def _box_label(v, wpx, hpx, names):
    """The text inside one VMA's box, as much as fits: wide boxes get the id, range, file and
    page offset, size and state; narrow ones their name, permissions and size."""
    chars = int((wpx - 6) / CHAR_PX)
    nlines = int((hpx - 4) / LINE_PX)
    if chars < 3 or nlines < 1:
        return None
    states = [s for s, on in (("write-locked", v.write_locked), ("hidden", v.hidden),
                              ("detached", v.detached)) if on]
    where = _where(v, names)
    if v.file:
        where_full = f"{where} @pgoff {v.pgoff:#x}"
    elif v.anon_vma is not None and not (names and names.get(v.id)):
        where_full = f"anonymous, anon_vma#{v.anon_vma}"
    else:
        where_full = where
    rng = f"{v.start:#x}–{v.end:#x}"
    size = human_bytes(v.end - v.start)
    notable = " ".join(f for f in v.flags if f not in ROUTINE_FLAGS)
    if chars >= len(rng):
        lines = [f"vma#{v.id} {v.perms}", rng]
        if len(where_full) + len(size) + 3 <= chars:
            lines.append(f"{where_full} · {size}")
        else:
            lines += [where_full, size]
        if notable:
            lines.append(notable)
    else:                       # narrow: what it is first, then where and how big
        lines = [where, v.perms, size, f"vma#{v.id}"]
    if states:
        lines.insert(min(len(lines), max(nlines - 1, 1)), ", ".join(states))
    keep = lines[:nlines]
    return "\n".join(t for t in (_fit(t, chars) for t in keep) if t)


def _file_runs(row_boxes):
    """Runs (i, j) of >= 2 consecutive boxes of one row that map the same file."""
    runs = []
    i = 0
    while i < len(row_boxes):
        j = i
        f = row_boxes[i][0].file
        while f and j + 1 < len(row_boxes) and row_boxes[j + 1][0].file == f:
            j += 1
        if j > i:
            runs.append((i, j))
        i = j + 1
    return runs


# --- drawing -----------------------------------------------------------------------------

def _rect(x0, x1, y0, y1):
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


def _kind(v) -> str:
    if v.special:
        return "special"
    return "file" if v.file else "anon"


def _uncovered(intervals, vmas):
    """Parts of `intervals` ([a, b] lists) that no VMA covers."""
    spans = sorted((v.start, v.end) for v in vmas)
    out = []
    j = 0
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


def _auto_rows(n):
    if n <= 40:
        return 1
    if n > DENSE_VMAS:
        return 4
    return min(10, math.ceil(n / 30))


def layout_figure(snapshot, *, highlight=None, title=None, figsize=None, axis=None,
                  rows=None, names=None, legend=True):
    """The address space of `snapshot` as a Figure (matplotlib, Agg; no pyplot).

    highlight: VMA ids to mark as changed by the current step (see `changed_vmas`).
    title: a heading; figsize: inches (default (9, 2.6) for one row, taller for more rows).
    axis: an `AddressAxis` shared by several pictures (`axis_for(trace snapshots)`), so boxes
    stay put while stepping; default: built from this snapshot alone.
    rows: wrap the axis over this many rows (default: 1 up to 40 VMAs, more above).
    names: {vma id: name} to print instead of the file label (e.g. "[heap]" from a maps file).
    """
    n = len(snapshot.vmas)
    nrows = max(1, rows if rows else _auto_rows(n))
    if figsize is None:
        figsize = (9, 2.6) if nrows == 1 else (9 if n <= DENSE_VMAS else 10, 1.15 + 0.95 * nrows)
    with rc():
        fig = new_figure(figsize)
        _draw_panel(fig, (0.0, 0.0, figsize[0], figsize[1]), snapshot, highlight=highlight,
                    title=title, axis=axis, rows=nrows, names=names, legend=legend)
    return fig


def _draw_panel(fig, panel, snapshot, *, highlight, title, axis, rows, names, legend):
    """Draw one address-space picture into the panel (left, bottom, width, height; inches)."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Patch

    FW, FH = fig.get_figwidth(), fig.get_figheight()
    PL, PB, W, H = panel

    def fx(inch):
        return (PL + inch) / FW

    def fy(inch):
        return (PB + inch) / FH

    highlight = set(highlight or ())
    vmas = sorted(snapshot.vmas, key=lambda v: (v.start, v.detached))
    if axis is None:
        axis = AddressAxis((v.start, v.end) for v in vmas)
    n = len(vmas)
    nrows = rows
    dense = n > DENSE_VMAS

    kinds_present = [k for k in KINDS if any(_kind(v) == k for v in vmas)]
    states = {
        "hidden": any(v.hidden for v in vmas),
        "locked": any(v.write_locked for v in vmas),
        "detached": any(v.detached for v in vmas),
        "changed": any(v.id in highlight for v in vmas),
    }
    uncovered = _uncovered(axis.covered(), vmas) if not axis.empty and not dense else []
    states["unmapped"] = bool(uncovered)
    n_legend = len(kinds_present) + sum(states.values())
    leg_cols = 4 if W < 10 else 5
    leg_rows = math.ceil(n_legend / leg_cols) if (legend and n_legend) else 0
    info = f"{n} VMA{'s' if n != 1 else ''} · map_count {snapshot.map_count}"
    pa = snapshot.pending_action
    if pa is not None:
        info += f" · pending action {pa.type}" + (" (hide from rmap)" if pa.hide_from_rmap_until_complete else "")
    if dense:
        info += " · dense: boxes binned to pixels"
    if axis.scale == "log":
        info += " · sizes on a log scale"
    two_lines = bool(title) and (len(title) * 8.4 + len(info) * 6.4 + 40) > (W - 0.24) * fig.dpi
    top_in = 0.58 if two_lines else 0.34
    bottom_in = 0.12 + 0.2 * leg_rows
    ax = fig.add_axes([fx(0.12), fy(bottom_in), (W - 0.24) / FW,
                       max(0.1, (H - top_in - bottom_in) / FH)])
    ax.set_axis_off()

    fig.text(fx(W - 0.12), fy(H - (0.44 if two_lines else 0.2)), info, ha="right", va="center",
             fontsize=8, color="#444444")
    if title:
        fig.text(fx(0.12), fy(H - 0.2), title, ha="left", va="center", fontsize=10, weight="bold")

    if axis.empty:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.55, "no VMAs: nothing is mapped", ha="center", va="center",
                fontsize=11, color="#555555", style="italic")
        ax.plot([0.05, 0.95], [0.3, 0.3], color="#bbbbbb", lw=1)
        return ax

    cuts = _row_cuts(axis, nrows)
    nrows = len(cuts) - 1
    row_len = max(cuts[i + 1] - cuts[i] for i in range(nrows))
    pad = row_len * 0.01
    ax.set_xlim(-pad, row_len + pad)
    ax.set_ylim(0, nrows)
    ax_w_px = FW * fig.dpi * ax.get_position().width
    ax_h_px = FH * fig.dpi * ax.get_position().height
    px_x = ax_w_px / (row_len + 2 * pad)
    px_y = ax_h_px / nrows

    # vertical geometry of a row (one data unit tall): room for the gap sizes below the
    # boxes and for the "changed" marker above them, in pixels
    BOX_LO = min(0.3, 24 / px_y)
    BOX_HI = max(0.7, 1 - 15 / px_y)
    if nrows > 1:
        BOX_HI = max(0.7, 1 - 6 / px_y)

    def ybase(r):
        return nrows - 1 - r

    # baseline of every row, and the breaks
    base_segs = []
    for r in range(nrows):
        y = ybase(r) + BOX_LO - 3 / px_y
        base_segs.append([(0, y), (cuts[r + 1] - cuts[r], y)])
    ax.add_collection(LineCollection(base_segs, colors="#b0b0b0", linewidths=0.8, zorder=0))

    brk = axis.breaks()
    slash = []
    label_slots = [[] for _ in range(nrows)]
    # breaks with the most empty space first: they get the labels when space is short
    order = sorted(range(len(brk)), key=lambda i: -(brk[i][2] - brk[i][1]))
    mark_breaks = len(brk) <= ax_w_px / 4
    for rank, i in enumerate(order):
        kind, a0, a1, x0, x1 = brk[i]
        xm = (x0 + x1) / 2
        pieces = _split(xm, xm, cuts)
        if not pieces:
            continue
        r, lx, _ = pieces[0]
        yb = ybase(r)
        if mark_breaks:
            dx = min(0.18 * (x1 - x0), 6 / px_x)
            dy = 0.09
            ym = yb + (BOX_LO + BOX_HI) / 2
            for off in (-dx, dx):
                slash.append([(lx + off - dx * 0.6, ym - dy), (lx + off + dx * 0.6, ym + dy)])
        text = human_bytes(a1 - a0)
        tw = (len(text) * CHAR_PX * 0.9 + 8) / px_x
        lo, hi, ha = lx - tw / 2, lx + tw / 2, "center"
        if lo < -pad:                   # a break cut at the start of a row: keep text inside
            lo, hi, ha = lx, lx + tw, "left"
        elif hi > row_len + pad:
            lo, hi, ha = lx - tw, lx, "right"
        if rank < (120 if dense else 400) and all(hi <= s or lo >= e for s, e in label_slots[r]):
            label_slots[r].append((lo, hi))
            ax.text(lx, yb + BOX_LO - 7 / px_y, text, ha=ha, va="top", fontsize=7,
                    color="#555555", zorder=5)
    if slash:
        ax.add_collection(LineCollection(slash, colors="#555555", linewidths=1.1, zorder=4))

    # unmapped stretches of the (shared) axis: dotted outlines
    if uncovered:
        polys = []
        for a, b in uncovered:
            for r, lx0, lx1 in _split(axis.x(a), axis.x(b), cuts):
                yb = ybase(r)
                polys.append(_rect(lx0, lx1, yb + BOX_LO, yb + BOX_HI))
                wpx = (lx1 - lx0) * px_x
                if wpx > 60 and len(uncovered) < 200:
                    ax.text((lx0 + lx1) / 2, yb + (BOX_LO + BOX_HI) / 2,
                            "unmapped" if wpx > 90 else "hole", ha="center", va="center",
                            fontsize=FONT, color="#777777", style="italic", zorder=3)
        pc = PolyCollection(polys, facecolors="none", edgecolors=UNMAPPED_STYLE["edge"],
                            linestyles=[UNMAPPED_STYLE["linestyle"]], linewidths=1.0, zorder=1)
        pc.set_gid("mmviz-unmapped")
        ax.add_collection(pc)

    # geometry of every VMA piece
    boxes = []      # (vma, row, x0, x1, y0, y1)
    attached = [(v.start, v.end) for v in vmas if not v.detached]
    for v in vmas:
        gx0, gx1 = axis.x(v.start), axis.x(v.end)
        lo, hi = BOX_LO, BOX_HI
        if v.detached and any(s < v.end and v.start < e for s, e in attached):
            hi = (BOX_LO + BOX_HI) / 2 - 0.02     # share the slot: detached below
        for r, lx0, lx1 in _split(gx0, gx1, cuts):
            yb = ybase(r)
            boxes.append((v, r, lx0, lx1, yb + lo, yb + hi))

    if dense:
        _draw_dense(ax, boxes, nrows, row_len, px_x)
    else:
        _draw_boxes(ax, boxes, highlight, px_x, px_y, names, PolyCollection)

    if legend and n_legend:
        handles = []
        for k in kinds_present:
            face, edge, hatch, text = KINDS[k]
            handles.append(Patch(facecolor=face, edgecolor=edge, hatch=hatch, label=text))
        if states["hidden"]:
            handles.append(Patch(facecolor="white", edgecolor=HIDDEN_STYLE["edge"],
                                 hatch=HIDDEN_STYLE["hatch"], linestyle=HIDDEN_STYLE["linestyle"],
                                 lw=1.8, label=HIDDEN_STYLE["label"]))
        if states["locked"]:
            handles.append(Patch(facecolor="white", edgecolor=LOCKED_STYLE["edge"], lw=2.4,
                                 label=LOCKED_STYLE["label"]))
        if states["detached"]:
            handles.append(Patch(facecolor=(0.6, 0.6, 0.6, DETACHED_STYLE["alpha"]),
                                 edgecolor="#555555", linestyle=DETACHED_STYLE["linestyle"],
                                 label=DETACHED_STYLE["label"]))
        if states["changed"]:
            handles.append(Patch(facecolor="white", edgecolor=CHANGED_STYLE["edge"], lw=2.6,
                                 label=CHANGED_STYLE["label"]))
        if states["unmapped"]:
            handles.append(Patch(facecolor="white", edgecolor=UNMAPPED_STYLE["edge"],
                                 linestyle=UNMAPPED_STYLE["linestyle"], label=UNMAPPED_STYLE["label"]))
        fig.legend(handles=handles, loc="lower center", ncol=min(leg_cols, len(handles)),
                   fontsize=8, frameon=False, handlelength=2.2, handleheight=1.1,
                   columnspacing=1.4, borderaxespad=0.15,
                   bbox_to_anchor=(fx(W / 2), fy(0.02)))
    return ax


def _draw_boxes(ax, boxes, highlight, px_x, px_y, names, PolyCollection):
    groups = {}
    locked, hidden, halo = [], [], []
    marks_x, marks_y = [], []
    inset_y = 3.5 / px_y
    for v, r, x0, x1, y0, y1 in boxes:
        groups.setdefault((_kind(v), v.detached), []).append(_rect(x0, x1, y0, y1))
        inset_x = min(3.5 / px_x, (x1 - x0) * 0.2)
        if v.write_locked:
            locked.append(_rect(x0, x1, y0, y1))
        if v.hidden:
            hidden.append(_rect(x0 + inset_x, x1 - inset_x, y0 + inset_y, y1 - inset_y))
        if v.id in highlight:
            ox, oy = 3.5 / px_x, 3.5 / px_y
            halo.append(_rect(x0 - ox, x1 + ox, y0 - oy, y1 + oy))
            marks_x.append((x0 + x1) / 2)
            marks_y.append(y1 + 9 / px_y)
    for (kind, detached), polys in groups.items():
        face, edge, hatch, _ = KINDS[kind]
        pc = PolyCollection(polys, facecolors=face, edgecolors=edge, linewidths=1.0,
                            hatch=hatch or None, zorder=2,
                            alpha=DETACHED_STYLE["alpha"] if detached else None,
                            linestyles=[DETACHED_STYLE["linestyle"]] if detached else "solid")
        pc.set_gid(f"mmviz-{kind}{'-detached' if detached else ''}")
        ax.add_collection(pc)
        if detached:      # a crisp dashed outline over the faded fill, inside any lock outline
            ix, iy = 5 / px_x, 5 / px_y
            inner = [[(a[0] + ix, a[1] + iy), (b[0] + ix, b[1] - iy), (c[0] - ix, c[1] - iy),
                      (d[0] - ix, d[1] + iy)] for a, b, c, d in polys]
            ax.add_collection(PolyCollection(inner, facecolors="none", edgecolors="#333333",
                                             linewidths=1.4, linestyles=[DETACHED_STYLE["linestyle"]],
                                             zorder=3.1))
    if halo:
        pc = PolyCollection(halo, facecolors="none", edgecolors=CHANGED_STYLE["edge"],
                            linewidths=CHANGED_STYLE["lw"], zorder=1.5, joinstyle="round")
        pc.set_gid("mmviz-changed")
        ax.add_collection(pc)
        ax.scatter(marks_x, marks_y, marker="v", s=70, color=CHANGED_STYLE["edge"], zorder=6,
                   clip_on=False)
    if locked:
        pc = PolyCollection(locked, facecolors="none", edgecolors=LOCKED_STYLE["edge"],
                            linewidths=LOCKED_STYLE["lw"], zorder=3)
        pc.set_gid("mmviz-write-locked")
        ax.add_collection(pc)
    if hidden:
        pc = PolyCollection(hidden, facecolors="none", edgecolors=HIDDEN_STYLE["edge"],
                            hatch=HIDDEN_STYLE["hatch"], linewidths=HIDDEN_STYLE["lw"],
                            linestyles=[HIDDEN_STYLE["linestyle"]], zorder=3)
        pc.set_gid("mmviz-hidden")
        ax.add_collection(pc)
    # labels: only where they fit, on the largest piece of each VMA
    best = {}
    for b in boxes:
        v = b[0]
        if v.id not in best or (b[3] - b[2]) > (best[v.id][3] - best[v.id][2]):
            best[v.id] = b
    if len(best) > 600:
        return
    style = dict(fontsize=FONT, linespacing=1.15, zorder=5, color="black",
                 bbox=dict(boxstyle="round,pad=0.18", fc="white", ec="none", alpha=0.82))
    by_row = {}
    for b in sorted(best.values(), key=lambda b: (b[1], b[2])):
        by_row.setdefault(b[1], []).append(b)
    grouped = set()
    for row in by_row.values():
        # a library maps itself as several VMAs (r--p, r-xp, r--p, rw-p): when the boxes are
        # too narrow to each carry the file name, name the run once and give each box its perms
        for i, j in _file_runs(row):
            run = row[i:j + 1]
            name = _where(run[0][0], names)
            if all((b[3] - b[2]) * px_x - 6 >= CHAR_PX * (len(name) + 2) for b in run):
                continue
            x0, x1 = run[0][2], run[-1][3]
            y0, y1 = run[0][4], run[0][5]
            wpx = (x1 - x0) * px_x
            chars = int((wpx - 6) / CHAR_PX)
            if chars < 4:
                continue
            size = human_bytes(run[-1][0].end - run[0][0].start)
            text = _fit(name, chars)
            if (y1 - y0) * px_y > 3 * LINE_PX + 8 and len(size) <= chars:
                text += "\n" + size
            ax.text((x0 + x1) / 2, y0 + (y1 - y0) * 0.42, text, ha="center", va="center", **style)
            for v, r, bx0, bx1, by0, by1 in run:
                grouped.add(v.id)
                bw = (bx1 - bx0) * px_x
                if bw - 4 >= CHAR_PX * 4:
                    ax.text((bx0 + bx1) / 2, by1 - 3 / px_y, v.perms, ha="center", va="top",
                            fontsize=7, zorder=5, color="#222222")
    for v, r, x0, x1, y0, y1 in best.values():
        if v.id in grouped:
            continue
        text = _box_label(v, (x1 - x0) * px_x, (y1 - y0) * px_y, names)
        if text:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, ha="center", va="center", **style)


def _draw_dense(ax, boxes, nrows, row_len, px_x):
    """Too many VMAs for one box each: cut each row into columns ~2 px wide and stack, in
    each column, one bar per kind with a height proportional to the share of the column that
    kind covers (quantised to eighths, at least one eighth for a kind that is there, so rare
    kinds stay visible). Each kind is then one step-shaped polygon per row."""
    import numpy as np
    from matplotlib.collections import PolyCollection

    binw = 2.0 / px_x
    nb = int(math.ceil(row_len / binw)) + 1
    edges = np.arange(nb + 1) * binw
    kinds = list(KINDS)
    polys = {k: [] for k in kinds}
    for r in range(nrows):
        rb = [b for b in boxes if b[1] == r and not b[0].detached]
        if not rb:
            continue
        y0, y1 = rb[0][4], rb[0][5]
        cover = np.zeros((len(kinds), nb))
        for ki, k in enumerate(kinds):
            xs = [(b[2], b[3]) for b in rb if _kind(b[0]) == k]
            if not xs:
                continue
            arr = np.array(sorted(xs))
            widths = arr[:, 1] - arr[:, 0]
            cum = np.cumsum(widths)
            xp = np.empty(2 * len(arr))
            fp = np.empty_like(xp)
            xp[0::2], xp[1::2] = arr[:, 0], arr[:, 1]
            fp[0::2], fp[1::2] = cum - widths, cum
            c = np.interp(edges, np.maximum.accumulate(xp), fp)
            cover[ki] = np.diff(c) / binw
        total = cover.sum(axis=0)
        share = np.where(total > 0, cover / np.maximum(total, 1e-12), 0.0)
        # every kind present in a column keeps at least an eighth, so rare kinds stay visible
        share = np.where(share > 0, np.maximum(share, 1 / 8), 0.0)
        share = share / np.maximum(share.sum(axis=0), 1e-12)
        cum = np.round(np.cumsum(share, axis=0) * 8)     # eighths, summing to the full height
        key = np.diff(np.vstack([np.zeros((1, nb)), cum]), axis=0).astype(np.int64)
        key[:, total < 0.2] = 0                          # mostly empty column: draw nothing
        q = key / 8
        # one polygon per kind and row: its upper boundary left to right, its lower one back,
        # both as steps (a single hatched path draws far faster than thousands of bars)
        cum_lo = np.vstack([np.zeros((1, nb)), np.cumsum(q, axis=0)[:-1]])
        cum_hi = cum_lo + q
        xs = np.repeat(edges, 2)[1:-1]                 # x0 x1 x1 x2 x2 ... per column
        for ki, k in enumerate(kinds):
            if not q[ki].any():
                continue
            top = y0 + np.repeat(cum_hi[ki], 2) * (y1 - y0)
            bot = y0 + np.repeat(cum_lo[ki], 2) * (y1 - y0)
            verts = np.concatenate([np.column_stack([xs, top]), np.column_stack([xs[::-1], bot[::-1]])])
            polys[k].append(verts)
    for k in kinds:
        if polys[k]:
            face, edge, hatch, _ = KINDS[k]
            pc = PolyCollection(polys[k], facecolors=face, edgecolors="none", hatch=hatch or None,
                                zorder=2)
            pc.set_gid(f"mmviz-{k}")
            ax.add_collection(pc)


def layout_png(snapshot, **kw) -> bytes:
    """`layout_figure(snapshot, **kw)` as PNG bytes (100 dpi)."""
    return to_png(layout_figure(snapshot, **kw))


def layout_svg(snapshot, **kw) -> str:
    """`layout_figure(snapshot, **kw)` as an SVG document (text kept as text)."""
    return to_svg(layout_figure(snapshot, **kw))


def before_after_figure(trace, figsize=(9, 4.8)):
    """The trace's initial and final address spaces stacked on one shared axis, the VMAs
    the call changed marked in the "after" picture."""
    axis = axis_for([trace.initial, trace.final])
    W, H = figsize
    changed = _diff_ids(trace.initial, trace.final)
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    with rc():
        fig = new_figure(figsize)
        for i, (snap, label, hl) in enumerate(((trace.initial, "before", ()), (trace.final, "after", changed))):
            _draw_panel(fig, (0.0, H / 2 * (1 - i), W, H / 2), snap, highlight=hl,
                        title=f"{label} — {trace.scenario} ({trace.kernel}, {mode})", axis=axis,
                        rows=1, names=None, legend=True)
    return fig


from ..trace.query import changed_vmas, diff_ids as _diff_ids  # noqa: E402,F401  (re-exported)
