"""The address-space picture: every VMA a box on an address axis whose empty stretches are
compressed (see `layout_axis`).

Kinds of VMA are told apart by a colour *and* a hatch or outline (the one palette of
`palette.py`, Okabe–Ito, safe for colour-blind readers), with a legend naming each one:

    anonymous        sky blue, plain
    file-backed      orange, "//" hatch
    VM_SPECIAL       reddish purple, "xx" hatch
    hidden from rmap bluish-green dotted outline, "o" hatch
    write-locked     thick blue outline
    detached         faded, dashed outline (in flight: out of the tree, still referenced)
    changed          vermillion halo and a ▼ marker (the VMAs a step changed)
    in i_mmap        a strip under each file-backed box: filled when the VMA is in its
                     file's i_mmap (rmap walkers can find it), dashed and empty when not

A long axis wraps into rows like a paragraph. Above `DENSE_VMAS` VMAs the boxes are binned
to pixels; a picture of a big address space (more than `BAND_VMAS`) with a `focus` (the
addresses a call touches) is an overview of the whole space plus a detail band around the
focus, where the changed VMAs are drawn and labelled box by box.

There is one drawer, `LayoutPainter`. It draws what does not change between the pictures of
one geometry (axes, breaks, legend) once; `figure()` adds one snapshot's boxes to a fresh
Figure (exports: PNG, SVG), `png()` blits them over the cached background of that static
part (steppers: one painter per trace, a picture in a few milliseconds). Pure: snapshot in,
Figure / PNG / SVG out; no pyplot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ._units import human_bytes
from .layout_axis import (DENSE_VMAS, AddressAxis, auto_rows, axis_for,  # noqa: F401
                          detail_window, row_cuts, split_span, uncovered, vma_ranges)
from .layout_badges import draw_badges
from .layout_labels import box_label, file_runs, fit_name, where
from .palette import (CHANGED_STYLE, DETACHED_STYLE, HIDDEN_STYLE, KINDS,  # noqa: F401
                      LOCKED_STYLE, MUTED, FAINT, RMAP_IN_STYLE, RMAP_OUT_STYLE,
                      UNMAPPED_STYLE, layout_swatches, vma_kind, vma_states)

BAND_VMAS = 120             # above this many VMAs, a focus gets a detail band
FONT = 9
MIN_FONT = 8                # the smallest text of a layout picture, in points at scale 1
CHAR_PX = 7.8               # width of a FONT-point character at 100 dpi (hex digits, the widest)
LINE_PX = 14.5
STRIP_PX = 6                # height of the "in i_mmap" strip
BASE_DPI = 100              # sizes in pixels are pixels of a 100-dpi picture
BASE_CACHE = 24             # snapshot pictures a painter keeps as pixels (without marks)


def _rect(x0, x1, y0, y1):
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


# --- geometry of one panel (a set of rows on one axis) ------------------------------------------

@dataclass
class Panel:
    """One address axis drawn in one axes: its rows and the vertical layout of a row."""

    ax: object
    axis: AddressAxis
    dense: bool
    window: tuple | None = None          # (lo, hi): only VMAs overlapping it (detail band)
    cuts: list = field(default_factory=list)
    row_len: float = 1.0
    px_x: float = 1.0
    px_y: float = 1.0
    box: tuple = (0.3, 0.7)              # box bottom/top within a row (row units)
    strip: tuple | None = None           # the i_mmap strip's bottom/top, under the box
    pool: dict | None = None             # collections kept between blitted pictures

    @property
    def nrows(self):
        return max(len(self.cuts) - 1, 1)

    def ybase(self, r):
        return self.nrows - 1 - r


def _panel_rows(p: Panel, rows, strip, scale, marker_room, ticks=False):
    """Cut the axis into rows and fix the vertical geometry of a row (in pixels)."""
    p.cuts = row_cuts(p.axis, rows)
    p.row_len = max(p.cuts[i + 1] - p.cuts[i] for i in range(p.nrows))
    pad = p.row_len * 0.01
    p.ax.set_xlim(-pad, p.row_len + pad)
    p.ax.set_ylim(0, p.nrows)
    fig = p.ax.figure
    pos = p.ax.get_position()
    # pixels at 100 dpi, the unit of every size here: a 150-dpi picture is the same drawing
    p.px_x = fig.get_figwidth() * BASE_DPI * pos.width / (p.row_len + 2 * pad)
    p.px_y = fig.get_figheight() * BASE_DPI * pos.height / p.nrows
    below = (13 + (STRIP_PX + 3 if strip else 0) + (LINE_PX if ticks else 0)) * scale
    lo = min(0.42, below / p.px_y)
    hi = max(lo + 0.3, 1 - (marker_room * scale if p.nrows == 1 else 6 * scale) / p.px_y)
    p.box = (lo, min(hi, 1.0))
    if strip:
        top = lo - 2 * scale / p.px_y
        p.strip = (top - STRIP_PX * scale / p.px_y, top)


def _static_breaks(p: Panel, scale, ticks=False):
    """Baselines, the '//' marks of large holes and the size written under each; with
    `ticks`, the start address of each row and of each stretch after a break, under it."""
    from matplotlib.collections import LineCollection
    base_y = (p.strip[0] if p.strip else p.box[0]) - 3 / p.px_y
    segs = [[(0, p.ybase(r) + base_y), (p.cuts[r + 1] - p.cuts[r], p.ybase(r) + base_y)]
            for r in range(p.nrows)]
    _coll(p.ax, LineCollection(segs, colors=FAINT, linewidths=0.8, zorder=0))
    brk = p.axis.breaks()
    slash, slots = [], [[] for _ in range(p.nrows)]
    order = sorted(range(len(brk)), key=lambda i: -(brk[i][2] - brk[i][1]))
    mark = len(brk) <= p.row_len * p.px_x / 4
    for rank, i in enumerate(order):
        _, a0, a1, x0, x1 = brk[i]
        pieces = split_span((x0 + x1) / 2, (x0 + x1) / 2, p.cuts)
        if not pieces:
            continue
        r, lx, _ = pieces[0]
        yb = p.ybase(r)
        if mark:
            dx, ym = min(0.18 * (x1 - x0), 6 / p.px_x), yb + sum(p.box) / 2
            slash += [[(lx + o - dx * 0.6, ym - 0.09), (lx + o + dx * 0.6, ym + 0.09)]
                      for o in (-dx, dx)]
        if rank < (120 if p.dense else 400):
            _break_label(p, slots[r], lx, yb + base_y - 4 / p.px_y, human_bytes(a1 - a0), scale)
    if slash:
        _coll(p.ax, LineCollection(slash, colors=MUTED, linewidths=1.1, zorder=4))
    if ticks:
        _address_ticks(p, base_y, scale)


def _address_ticks(p: Panel, base_y, scale):
    """A tick and the address where each row starts and where mapped space resumes after a
    '//' break (on the line under the hole sizes), where there is room for it."""
    from matplotlib.collections import LineCollection
    starts = [(0.0, p.axis.pieces[0][1])] if p.axis.pieces else []
    starts += [(x1, a1) for _, a0, a1, x0, x1 in p.axis.breaks()]
    segs, taken = [], [[] for _ in range(p.nrows)]
    for r in range(1, p.nrows):                 # a row's start, wherever the row was cut
        starts.append((p.cuts[r], _addr_at(p.axis, p.cuts[r])))
    for x, addr in sorted(starts):
        pieces = split_span(x, x, p.cuts)
        if not pieces:
            continue
        r, lx, _ = pieces[-1] if x > 0 else pieces[0]
        if lx >= p.row_len - 1e-9 and r + 1 < p.nrows:
            r, lx = r + 1, 0.0
        yb = p.ybase(r)
        text = f"{addr:#x}"
        tw = (len(text) * CHAR_PX * 0.8 * scale + 6) / p.px_x
        if lx + tw > p.row_len + p.row_len * 0.01 or any(
                not (lx + tw <= s or lx >= e) for s, e in taken[r]):
            continue
        taken[r].append((lx, lx + tw))
        segs.append([(lx, yb + base_y), (lx, yb + base_y - 4 / p.px_y)])
        p.ax.text(lx, yb + base_y - (4 + LINE_PX) * scale / p.px_y, text, ha="left", va="top",
                  fontsize=MIN_FONT * scale, color="#333333", zorder=5,
                  family="DejaVu Sans Mono")
    if segs:
        _coll(p.ax, LineCollection(segs, colors="#333333", linewidths=1.0, zorder=4))


def _addr_at(axis, x):
    """The address at axis position x (inverse of AddressAxis.x on mapped pieces)."""
    for kind, a0, a1, x0, x1 in axis.pieces:
        if x0 <= x <= x1:
            if kind == "break" or x1 == x0:
                return a1
            return int(a0 + (x - x0) / (x1 - x0) * (a1 - a0)) & ~0xFFF
    return axis.pieces[-1][2] if axis.pieces else 0


def _break_label(p: Panel, slots, lx, y, text, scale):
    """The size of a hole under its break, where it does not overlap another."""
    tw = (len(text) * CHAR_PX * 0.8 * scale + 8) / p.px_x
    lo, hi, ha = lx - tw / 2, lx + tw / 2, "center"
    pad = p.row_len * 0.01
    if lo < -pad:                       # a break cut at the start of a row: keep text inside
        lo, hi, ha = lx, lx + tw, "left"
    elif hi > p.row_len + pad:
        lo, hi, ha = lx - tw, lx, "right"
    if all(hi <= s or lo >= e for s, e in slots):
        slots.append((lo, hi))
        p.ax.text(lx, y, text, ha=ha, va="top", fontsize=MIN_FONT * scale, color=MUTED,
                  zorder=5)


# --- the painter ----------------------------------------------------------------------------------

class LayoutPainter:
    """Draws address-space pictures of one geometry (axis, rows, size, legend, band).

    figure(snapshot, ...) -> a Figure with the static part and this snapshot (exports);
    png(snapshot, ...) -> PNG bytes blitted over the cached static part (steppers). A painter
    given `fig` and `origin` (inches) draws into that region of a bigger figure. Not
    thread-safe: give each thread its own painter.
    """

    def __init__(self, axis, *, size=None, rows=1, dense=False, swatches=(), band=None,
                 band_axis=None, scale=1.0, long_title=False, n_hint=0, fig=None,
                 origin=(0.0, 0.0), dpi=BASE_DPI, heading=True, ticks=False):
        from ._mpl import new_figure
        self.axis, self.rows, self.dense = axis, max(1, rows), dense
        self.ticks = ticks
        self.band, self.scale, self.heading = band, scale, heading
        self.swatches = list(swatches)
        self.strip = any(s.key in ("rmap-in", "rmap-out") for s in self.swatches)
        self.size = size or default_size(n_hint, self.rows, band is not None)
        self.fig = fig if fig is not None else new_figure(self.size, dpi)
        self.origin = origin
        self._background = None
        self._arrays = None
        with _rc():
            self._lay_out(long_title, band_axis)

    def fx(self, inch):
        """Figure fraction of a horizontal position given in inches inside this painter."""
        return (self.origin[0] + inch) / self.fig.get_figwidth()

    def fy(self, inch):
        return (self.origin[1] + inch) / self.fig.get_figheight()

    # static part
    def _lay_out(self, long_title, band_axis):
        W, H = self.size
        s = self.scale
        self.top_in = ((0.58 if long_title else 0.34) if self.heading else 0.2) * s
        bottom = (0.12 + 0.2 * self._legend_rows()) * s
        avail = max(0.3, H - self.top_in - bottom)
        self.panels = []
        if self.band is None:
            self._add_panel((0.12, bottom, W - 0.24, avail), self.axis, self.rows,
                            self.dense, None, 15)
        else:
            band_h = min(max(1.35 * s, avail * 0.5), avail - 0.5 * s)
            gap = 0.42 * s
            over_h = max(0.2, avail - band_h - gap)
            self._add_panel((0.12, bottom + band_h + gap, W - 0.24, over_h), self.axis,
                            self.rows, self.dense, None, 12)
            self._add_panel((0.12, bottom, W - 0.24, band_h), band_axis, 1, False, self.band, 15)
            self._draw_zoom(bottom + band_h, gap)
        if self.swatches:
            self._draw_legend()

    def _legend_rows(self):
        return math.ceil(len(self.swatches) / self._legend_cols()) if self.swatches else 0

    def _legend_cols(self):
        """As many columns as fit the width: measured on a trial legend (once per painter)."""
        if getattr(self, "_cols", None) is None:
            self._cols = 1
            renderer = self.fig.canvas.get_renderer()
            for cols in range(min(5, len(self.swatches)), 0, -1):
                leg = self._legend(cols)
                width = leg.get_window_extent(renderer).width / self.fig.dpi
                leg.remove()
                if width <= self.size[0] - 0.1:
                    self._cols = cols
                    break
        return self._cols

    def _legend(self, cols):
        from ._mpl import legend_handles
        return self.fig.legend(handles=legend_handles(self.swatches, self.scale),
                               loc="lower center", ncol=cols, fontsize=8 * self.scale,
                               frameon=False, handlelength=2.2, handleheight=1.1,
                               columnspacing=1.4, borderaxespad=0.15,
                               bbox_to_anchor=(self.fx(self.size[0] / 2), self.fy(0.02)))

    def _add_panel(self, rect, axis, rows, dense, window, marker_room):
        l, b, w, h = rect
        FW, FH = self.fig.get_figwidth(), self.fig.get_figheight()
        ax = self.fig.add_axes([self.fx(l), self.fy(b), w / FW, max(0.05, h / FH)])
        ax.set_axis_off()
        p = Panel(ax, axis, dense, window)
        self.panels.append(p)
        if not axis.empty:
            ticks = self.ticks and window is None
            _panel_rows(p, rows, self.strip and not dense, self.scale, marker_room, ticks)
            _static_breaks(p, self.scale, ticks)

    def _draw_zoom(self, band_top_in, gap_in):
        """The detail band's caption (static: the band is the same in every picture)."""
        lo, hi = self.band
        self.fig.text(self.fx(0.12), self.fy(band_top_in + gap_in * 0.45),
                      f"detail around the call: {lo:#x}–{hi:#x} (bracketed in the overview)",
                      ha="left", va="center", fontsize=8 * self.scale, color="#333333")

    def _zoom_marks(self, animated):
        """On the overview, a black bracket round the stretch the detail band shows (drawn
        over the binned VMAs, so with them)."""
        over, band = self.panels
        if over.axis.empty or band.axis.empty:
            return []
        lo, hi = self.band
        x0, x1 = over.axis.x(lo), over.axis.x(hi)
        r, lx0, _ = split_span(x0, x0, over.cuts)[0]
        lx1 = lx0 + max(min(x1, over.cuts[r + 1]) - x0, 5 / over.px_x)
        y0, y1 = over.ybase(r) + over.box[0], over.ybase(r) + over.box[1]
        right = lx1 + 4 / over.px_x < over.row_len * 0.8
        arts = [over.ax.add_patch(_zoom_patch(lx0, lx1, y0, y1)),
                _text(over.ax, lx1 + 4 / over.px_x if right else lx0 - 4 / over.px_x,
                      (y0 + y1) / 2, "detail below", ha="left" if right else "right",
                      va="center", fontsize=MIN_FONT * self.scale, weight="bold", zorder=8,
                      bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="#000000", lw=0.8))]
        for a in arts:
            a.set_animated(animated)
        return arts

    def _draw_legend(self):
        self._legend(min(self._legend_cols(), len(self.swatches)))

    # dynamic part
    def draw(self, snapshot, *, highlight=(), title=None, names=None, animated=False,
             badges=None) -> list:
        """Add this snapshot's boxes, labels, heading and changed marks; return the artists.
        badges: {vma id: [(text, dark), ...]}, what each task does to a VMA (a race)."""
        with _rc():
            return (self._draw_base(snapshot, title, names, animated)
                    + self._draw_marks(snapshot, frozenset(highlight or ()), animated, badges))

    def _draw_base(self, snapshot, title, names, animated):
        """Everything of one snapshot but the marks of what changed."""
        arts = _heading(self, snapshot, title, animated)
        if self.band is not None:
            arts += self._zoom_marks(animated)
        for p in self.panels:
            if p.axis.empty:
                arts += _empty_note(p, animated) if p.window is None else []
            elif p.dense:
                arts += _draw_binned(self, p, snapshot.vmas, animated)
            else:
                arts += _draw_boxes(p, _vmas_in(snapshot.vmas, p.window), names, self.scale,
                                    animated)
        return arts

    def _draw_marks(self, snapshot, highlight, animated, badges=None):
        """The changed VMAs: a halo and a ▼ (boxes), a tick and a ▼ (binned); the tasks'
        badges (boxes only)."""
        arts = []
        if not highlight and not badges:
            return arts
        for p in self.panels:
            if p.axis.empty:
                continue
            if p.dense:
                arts += _binned_marks(p, snapshot, highlight) if highlight else []
                continue
            vmas = _vmas_in(snapshot.vmas, p.window)
            if highlight:
                arts += _changed_marks(p, vmas, highlight)
            if badges:
                arts += draw_badges(p, [b for b in _geometry(p, vmas) if b[0].id in badges],
                                    badges, self.scale, _text)
        for a in arts:
            a.set_animated(animated)
        return arts

    def figure(self, snapshot, **kw):
        """The Figure with this snapshot drawn (a painter makes one figure this way)."""
        self.draw(snapshot, **kw)
        return self.fig

    def png(self, snapshot, *, highlight=(), title=None, names=None, badges=None) -> bytes:
        """This snapshot as PNG, fast (steppers): the static part is drawn once; the snapshot's
        own part once per state (kept as pixels); the changed marks over it each time."""
        import numpy

        from ._mpl import canvas_png
        canvas = self.fig.canvas
        if self._background is None:
            self._first_draw()
        key = (id(snapshot.vmas), title, id(names)) + (
            (snapshot.map_count, snapshot.pending_action) if self.heading else ())
        hit = self._bases.get(key)
        buf = numpy.asarray(canvas.buffer_rgba())
        self.fig._mmviz_lite = True          # every text here is pasted: no Text artists
        with _rc():
            if hit is not None and hit[0] is snapshot.vmas:
                buf[...] = hit[1]
                self._bases.move_to_end(key)
            else:
                canvas.restore_region(self._background)
                self._paint(self._draw_base(snapshot, title, names, True))
                self._bases[key] = (snapshot.vmas, buf.copy())
                while len(self._bases) > BASE_CACHE:
                    self._bases.popitem(last=False)
            self._paint(self._draw_marks(snapshot, frozenset(highlight or ()), True, badges))
        self.fig._mmviz_lite = False
        return canvas_png(canvas)

    def _first_draw(self):
        from collections import OrderedDict

        from ._mpl import TextStamps
        with _rc():
            self.fig.canvas.draw()
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
        self._stamps = TextStamps(self.fig.dpi)
        for p in self.panels:               # from now on, collections are kept and reused
            p.pool = {}
        self._bases = OrderedDict()

    def _paint(self, arts):
        """Draw artists onto the canvas as it is (texts seen before pasted as pixels), then
        take them out of the figure again."""
        canvas = self.fig.canvas
        renderer = canvas.get_renderer()
        for a in sorted(arts, key=lambda a: a.get_zorder()):
            if hasattr(a, "_mmviz_key"):
                self._stamps.draw(canvas, a)
            else:
                a.draw(renderer)
        for a in arts:
            if not getattr(a, "_mmviz_pooled", False):
                a.remove()


def _rc():
    from ._mpl import rc
    return rc()


def _text(where, x, y, s, **kw):
    """A text that recurs between pictures (pasted from the stamp cache by `png`)."""
    from ._mpl import stamped_text
    fig = where if not hasattr(where, "transData") else where.figure
    return stamped_text(where, x, y, s, lite=getattr(fig, "_mmviz_lite", False), **kw)


def _zoom_patch(x0, x1, y0, y1):
    from matplotlib.patches import Rectangle
    return Rectangle((x0, y0 - 0.04), x1 - x0, y1 - y0 + 0.08, facecolor="none",
                     edgecolor="#000000", lw=1.4, zorder=7, clip_on=False)


def _vmas_in(vmas, window):
    if window is None:
        return sorted(vmas, key=lambda v: (v.start, v.detached))
    lo, hi = window
    got = vmas.range(lo, hi) if hasattr(vmas, "range") else [
        v for v in vmas if v.start < hi and v.end > lo]
    return sorted(got, key=lambda v: (v.start, v.detached))


def _heading(painter, snapshot, title, animated):
    """The title (left) and the one-line summary (right) above the picture (a view that
    shows the summary as text, `summary_line`, draws the picture without them)."""
    if not painter.heading:
        return []
    W, H = painter.size
    s = painter.scale
    fig = painter.fig
    long = painter.top_in > 0.4 * s
    out = [_text(fig, painter.fx(W - 0.12), painter.fy(H - (0.44 if long else 0.2) * s),
                 summary_line(snapshot, painter), ha="right", va="center", fontsize=8 * s,
                 color="#444444")]
    if title:
        out.append(_text(fig, painter.fx(0.12), painter.fy(H - 0.2 * s), title, ha="left",
                         va="center", fontsize=10 * s, weight="bold"))
    for t in out:
        t.set_animated(animated)
    return out


def summary_line(snapshot, painter=None) -> str:
    n = len(snapshot.vmas)
    info = f"{n:,} VMA{'s' if n != 1 else ''} · map_count {snapshot.map_count:,}"
    pa = snapshot.pending_action
    if pa is not None:
        info += f" · pending action {pa.type}" + (" (hide from rmap)"
                                                  if pa.hide_from_rmap_until_complete else "")
    if painter is not None and painter.dense:
        info += " · dense: boxes binned to pixels"
    if painter is not None and painter.axis.scale == "log":
        info += " · sizes on a log scale"
    return info


def _empty_note(p: Panel, animated):
    p.ax.set_xlim(0, 1)
    p.ax.set_ylim(0, 1)
    t = p.ax.text(0.5, 0.55, "no VMAs: nothing is mapped", ha="center", va="center",
                  fontsize=11, color=MUTED, style="italic")
    line = p.ax.plot([0.05, 0.95], [0.3, 0.3], color="#bbbbbb", lw=1)[0]
    for a in (t, line):
        a.set_animated(animated)
    return [t, line]


# --- boxes ------------------------------------------------------------------------------------------

def _geometry(p: Panel, vmas):
    """(vma, row, x0, x1, y0, y1) of every piece of every VMA in the panel. VMAs that overlap
    (an in-flight one under its replacement, or both halves of a merge in progress) share
    their slot: the first attached one on top, the others (detached first) below."""
    boxes = []
    lo, hi = p.box
    mid = (lo + hi) / 2
    lane = _lanes(vmas)
    for v in vmas:
        y0, y1 = {0: (lo, hi), 1: (mid + 0.02, hi), 2: (lo, mid - 0.02)}[lane[v.id]]
        for r, x0, x1 in split_span(p.axis.x(v.start), p.axis.x(v.end), p.cuts):
            yb = p.ybase(r)
            boxes.append((v, r, x0, x1, yb + y0, yb + y1))
    return boxes


def _lanes(vmas) -> dict:
    """{vma id: 0 (the whole slot), 1 (its upper half) or 2 (its lower half)}."""
    order = sorted(vmas, key=lambda v: (v.start, v.detached, v.id))
    lane = {v.id: 0 for v in order}
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            if b.start >= a.end:
                break
            top, bottom = (a, b) if (a.detached, a.id) <= (b.detached, b.id) else (b, a)
            if lane[top.id] != 2:
                lane[top.id] = 1
            lane[bottom.id] = 2
    return lane


def _draw_boxes(p: Panel, vmas, names, scale, animated):
    from matplotlib.collections import PolyCollection
    arts = _draw_unmapped(p, vmas, scale)
    boxes = _geometry(p, vmas)
    arts += _kind_collections(p, boxes, PolyCollection, names)
    arts += _overlays(p, boxes, PolyCollection)
    if p.strip:
        arts += _rmap_strips(p, boxes, PolyCollection)
    arts += _box_labels(p, boxes, names, scale)
    for a in arts:
        a.set_animated(animated)
    return arts


def _draw_unmapped(p: Panel, vmas, scale):
    """Dotted outlines over stretches of the (shared) axis no VMA covers now."""
    covered = p.axis.covered()
    if p.window is not None:
        lo, hi = p.window
        covered = [[max(a, lo), min(b, hi)] for a, b in covered if b > lo and a < hi]
    gaps = uncovered(covered, vmas) if len(vmas) <= DENSE_VMAS else []
    if not gaps:
        return []
    polys, arts = [], []
    lo, hi = p.box
    for a, b in gaps:
        for r, x0, x1 in split_span(p.axis.x(a), p.axis.x(b), p.cuts):
            yb = p.ybase(r)
            polys.append(_rect(x0, x1, yb + lo, yb + hi))
            wpx = (x1 - x0) * p.px_x
            if wpx > 60 * scale and len(gaps) < 200:
                arts.append(_text(p.ax, (x0 + x1) / 2, yb + (lo + hi) / 2,
                                      "unmapped" if wpx > 90 * scale else "hole", ha="center",
                                      va="center", fontsize=FONT * scale, color="#777777",
                                      style="italic", zorder=3))
    pc = _poly(p, "mmviz-unmapped", polys, facecolors="none", edgecolors=UNMAPPED_STYLE["edge"],
               linestyles=[UNMAPPED_STYLE["linestyle"]], linewidths=1.0, zorder=1)
    return [pc] + arts


def _kind_collections(p: Panel, boxes, PolyCollection, names=None):
    """One collection per kind (and per kind of detached VMA): colour + hatch."""
    groups, arts = {}, []
    for v, r, x0, x1, y0, y1 in boxes:
        groups.setdefault((vma_kind(v, names), v.detached), []).append(_rect(x0, x1, y0, y1))
    for (kind, detached), polys in groups.items():
        face, edge, hatch, _ = KINDS[kind]
        arts.append(_poly(p, f"mmviz-{kind}{'-detached' if detached else ''}", polys,
                          facecolors=face, edgecolors=edge, linewidths=1.0,
                          hatch=hatch or None, zorder=2,
                          alpha=DETACHED_STYLE["alpha"] if detached else None,
                          linestyles=[DETACHED_STYLE["linestyle"]] if detached else "solid"))
        if detached:      # a crisp dashed outline over the faded fill, inside any lock outline
            ix, iy = 5 / p.px_x, 5 / p.px_y
            inner = [[(a[0] + ix, a[1] + iy), (b[0] + ix, b[1] - iy), (c[0] - ix, c[1] - iy),
                      (d[0] - ix, d[1] + iy)] for a, b, c, d in polys]
            arts.append(_poly(p, f"mmviz-{kind}-detached-outline", inner, facecolors="none",
                              edgecolors="#333333", linewidths=1.4,
                              linestyles=[DETACHED_STYLE["linestyle"]], zorder=3.1))
    return arts


def _overlays(p: Panel, boxes, PolyCollection):
    """The write-lock outline and the hidden-from-rmap hatch."""
    locked, hidden = [], []
    iy = 3.5 / p.px_y
    for v, r, x0, x1, y0, y1 in boxes:
        ix = min(3.5 / p.px_x, (x1 - x0) * 0.2)
        if v.write_locked:
            locked.append(_rect(x0, x1, y0, y1))
        if v.hidden:
            hidden.append(_rect(x0 + ix, x1 - ix, y0 + iy, y1 - iy))
    arts = []
    if locked:
        arts.append(_poly(p, "mmviz-write-locked", locked, facecolors="none",
                          edgecolors=LOCKED_STYLE["edge"], linewidths=LOCKED_STYLE["lw"],
                          zorder=3))
    if hidden:
        arts.append(_poly(p, "mmviz-hidden", hidden, facecolors="none",
                          edgecolors=HIDDEN_STYLE["edge"], hatch=HIDDEN_STYLE["hatch"],
                          linewidths=HIDDEN_STYLE["lw"], linestyles=[HIDDEN_STYLE["linestyle"]],
                          zorder=3))
    return arts


def _changed_marks(p: Panel, vmas, highlight):
    """A vermillion halo round each changed box (just outside it) and a ▼ above it."""
    halo, marks = [], []
    ox, oy = 3.5 / p.px_x, 3.5 / p.px_y
    tw, th = 6 / p.px_x, 9 / p.px_y                  # the ▼: 12 px wide, 9 px tall
    for v, r, x0, x1, y0, y1 in _geometry(p, vmas):
        if v.id not in highlight:
            continue
        halo.append(_rect(x0 - ox, x1 + ox, y0 - oy, y1 + oy))
        if y1 >= p.ybase(r) + p.box[1] - 1e-9:      # a box in a lower half has no room
            xm, yt = (x0 + x1) / 2, y1 + 5 / p.px_y
            marks.append([(xm - tw, yt + th), (xm + tw, yt + th), (xm, yt)])
    if not halo:
        return []
    edge = CHANGED_STYLE["edge"]
    arts = [_poly(p, "mmviz-changed", halo, facecolors="none", edgecolors=edge,
                  linewidths=CHANGED_STYLE["lw"], zorder=2.5, joinstyle="round")]
    if marks:
        arts.append(_poly(p, "mmviz-changed-marker", marks, facecolors=edge, edgecolors=edge,
                          linewidths=0.5, zorder=6, clip_on=False))
    return arts


def _coll(ax, collection):
    """Add a collection with fixed limits (the axes' limits are set: no autoscaling)."""
    return ax.add_collection(collection, autolim=False)


def _poly(p: Panel, gid, polys, **kw):
    """A PolyCollection of these polygons and style. A painter that blits keeps one per gid
    and style and only gives it new polygons (making one costs more than drawing it)."""
    from matplotlib.collections import PolyCollection
    key = None
    if p.pool is not None:
        key = (gid, repr(sorted(kw.items())))
        pc = p.pool.get(key)
        if pc is not None:
            pc.set_verts(polys)
            return pc
    pc = _coll(p.ax, PolyCollection(polys, **kw))
    pc.set_gid(gid)
    if key is not None:
        pc._mmviz_pooled = True
        p.pool[key] = pc
    return pc


def _gid(artist, gid):
    artist.set_gid(gid)
    return artist


def _rmap_strips(p: Panel, boxes, PolyCollection):
    """Under each attached file-backed box: is it in its file's i_mmap?"""
    s0, s1 = p.strip
    ins, outs, hid = [], [], []
    for v, r, x0, x1, y0, y1 in boxes:
        if v.file is None or v.detached:
            continue
        yb = p.ybase(r)
        inset = min(2 / p.px_x, (x1 - x0) * 0.1)
        rect = _rect(x0 + inset, x1 - inset, yb + s0, yb + s1)
        (ins if v.rmap else outs).append(rect)
        if v.rmap and v.hidden:
            hid.append(rect)
    arts = []
    for polys, style, gid, hatch in ((ins, RMAP_IN_STYLE, "mmviz-rmap-in", None),
                                     (outs, RMAP_OUT_STYLE, "mmviz-rmap-out", None),
                                     (hid, HIDDEN_STYLE, "mmviz-rmap-hidden", "oo")):
        if not polys:
            continue
        face = style.get("face", "none") if hatch is None else "none"
        arts.append(_poly(p, gid, polys, facecolors=face, edgecolors=style["edge"],
                          linewidths=0.8, hatch=hatch,
                          linestyles=[style.get("linestyle", "solid")], zorder=2))
    return arts


def _box_labels(p: Panel, boxes, names, scale):
    """Labels where they fit, on the largest piece of each VMA; a file's run named once."""
    best = {}
    for b in boxes:
        if b[0].id not in best or (b[3] - b[2]) > (best[b[0].id][3] - best[b[0].id][2]):
            best[b[0].id] = b
    if len(best) > 600:
        return []
    style = dict(fontsize=FONT * scale, linespacing=1.15, zorder=5, color="black",
                 bbox=dict(boxstyle="round,pad=0.18", fc="white", ec="none", alpha=0.82))
    by_row = {}
    for b in sorted(best.values(), key=lambda b: (b[1], b[2])):
        by_row.setdefault(b[1], []).append(b)
    arts, grouped = [], set()
    for row in by_row.values():
        for i, j in file_runs(row):
            arts += _run_label(p, row[i:j + 1], names, style, grouped, scale)
    cpx, lpx = CHAR_PX * scale, LINE_PX * scale
    for v, r, x0, x1, y0, y1 in best.values():
        if v.id in grouped:
            continue
        label, state = box_label(v, (x1 - x0) * p.px_x, (y1 - y0) * p.px_y, names, cpx, lpx)
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        if label and state:          # one block, centred: the label, the state words under it
            total = (label.count("\n") + 2) * lpx
            split = ym + (lpx - total / 2) / p.px_y
            arts.append(_text(p.ax, xm, split + 2 / p.px_y, label, ha="center", va="bottom",
                              **style))
            arts.append(_text(p.ax, xm, split - 2 / p.px_y, state, ha="center", va="top",
                              weight="bold", **style))
        elif label or state:
            arts.append(_text(p.ax, xm, ym, label or state, ha="center", va="center",
                              weight="normal" if label else "bold", **style))
    return arts


def _run_label(p: Panel, run, names, style, grouped, scale):
    """A library mapped as several VMAs (r--p, r-xp, r--p, rw-p): when the boxes are too
    narrow to each carry the file name, name the run once and give each box its perms."""
    cpx = CHAR_PX * scale
    name = where(run[0][0], names)
    if all((b[3] - b[2]) * p.px_x - 6 >= cpx * (len(name) + 2) for b in run):
        return []
    x0, x1, y0, y1 = run[0][2], run[-1][3], run[0][4], run[0][5]
    chars = int(((x1 - x0) * p.px_x - 6) / cpx)
    if chars < 4:
        return []
    size = human_bytes(run[-1][0].end - run[0][0].start)
    text = fit_name(name, chars)
    if text and (y1 - y0) * p.px_y > 3 * LINE_PX * scale + 8 and len(size) <= chars:
        text += "\n" + size
    arts = [_text(p.ax, (x0 + x1) / 2, y0 + (y1 - y0) * 0.42, text, ha="center", va="center",
                  **style)] if text else []
    for v, r, bx0, bx1, by0, by1 in run:
        grouped.add(v.id)
        if (bx1 - bx0) * p.px_x - 4 >= cpx * 4:
            arts.append(_text(p.ax, (bx0 + bx1) / 2, by1 - 3 / p.px_y, v.perms, ha="center",
                              va="top", fontsize=MIN_FONT * scale, zorder=5, color="#222222"))
    return arts


# --- binned (dense) ----------------------------------------------------------------------------------

def _draw_binned(painter, p: Panel, vmas, animated):
    """A dense panel: each kind one step polygon per row."""
    from matplotlib.collections import PolyCollection

    from .layout_dense import VmaArrays, binned_polygons
    if painter._arrays is None:
        painter._arrays = VmaArrays()
    start, end, kinds, detached = painter._arrays.of(vmas)
    keep = ~detached
    gx0, gx1 = p.axis.xs(start[keep]), p.axis.xs(end[keep])
    lo, hi = p.box
    polys = binned_polygons(gx0, gx1, kinds[keep], p.cuts, p.row_len, p.px_x,
                            lambda r: (p.ybase(r) + lo, p.ybase(r) + hi))
    arts = []
    for k, rows in polys.items():
        if rows:
            face, edge, hatch, _ = KINDS[k]
            pc = PolyCollection(rows, facecolors=face, edgecolors="none", hatch=hatch or None,
                                zorder=2)
            arts.append(_gid(_coll(p.ax, pc), f"mmviz-{k}"))
    for a in arts:
        a.set_animated(animated)
    return arts


def _binned_marks(p: Panel, snapshot, highlight):
    """Changed VMAs in a binned panel: a vermillion tick through the row and a ▼ above."""
    from matplotlib.collections import LineCollection
    marks = _views_of(snapshot, highlight)
    segs, mx, my = [], [], []
    lo, hi = p.box
    for v in marks:
        for r, x0, x1 in split_span(p.axis.x(v.start), p.axis.x(v.end), p.cuts):
            xm = (x0 + x1) / 2
            segs.append([(xm, p.ybase(r) + lo), (xm, p.ybase(r) + hi)])
            mx.append(xm)
            my.append(p.ybase(r) + hi + 6 / p.px_y)
    if not segs:
        return []
    return [_gid(_coll(p.ax, LineCollection(
                segs, colors=CHANGED_STYLE["edge"], linewidths=2.0, zorder=4)),
                 "mmviz-changed-tick"),
            p.ax.scatter(mx, my, marker="v", s=50, color=CHANGED_STYLE["edge"], zorder=6,
                         clip_on=False)]


def _views_of(snapshot, ids) -> list:
    """The views of these VMA ids in a snapshot: looked up in the whole set when it is small,
    else among the views the snapshot's event changed (a step marks what it changed)."""
    vmas = snapshot.vmas
    if len(vmas) <= 4096:
        return [v for v in (vmas.get(i) for i in ids) if v is not None]
    changed = {v.id: v for v in getattr(snapshot, "set_views", ()) if v.mm == 1}
    return [changed[i] for i in ids if i in changed]


# --- what a picture shows, and the public functions ------------------------------------------------

def default_size(n, rows, band):
    if band:
        return (9 if n <= DENSE_VMAS else 10, 0.34 + 0.62 * rows + 0.42 + 1.45 + 0.75)
    if rows == 1:
        return (9, 2.6)
    return (9 if n <= DENSE_VMAS else 10, 1.15 + 0.95 * rows)


def legend_for(kind_vmas, state_vmas, highlight=(), unmapped=False, changed=False,
               names=None) -> list:
    """The layout legend: the kinds of `kind_vmas`, the states shown by `state_vmas`."""
    kinds = {vma_kind(v, names) for v in kind_vmas}
    states = set()
    for v in state_vmas:
        states |= vma_states(v, highlight)
    if unmapped:
        states.add("unmapped")
    if changed:
        states.add("changed")
    return layout_swatches(kinds, states)


def focus_of(snapshot, highlight):
    """The address range of the highlighted VMAs of a snapshot, or None."""
    views = [v for v in (snapshot.vmas.get(i) for i in highlight) if v is not None]
    if not views:
        return None
    return min(v.start for v in views), max(v.end for v in views)


def has_gaps(axis, vmas, window=None) -> bool:
    """Does the axis show a stretch (inside `window`) that none of `vmas` covers?"""
    if axis.empty or len(vmas) > DENSE_VMAS:
        return False
    covered = axis.covered()
    if window is not None:
        covered = [[max(a, window[0]), min(b, window[1])] for a, b in covered
                   if b > window[0] and a < window[1]]
    return bool(uncovered(covered, vmas))


def layout_painter(snapshot, *, highlight=(), title=None, figsize=None, axis=None, rows=None,
                   legend=True, focus=None, scale=1.0, fig=None, origin=(0.0, 0.0),
                   names=None, ticks=False):
    """A painter sized and legended for one snapshot (what `layout_figure` draws with)."""
    vmas = snapshot.vmas
    n = len(vmas)
    axis = axis_for([snapshot]) if axis is None else axis
    if focus is None and n > BAND_VMAS and highlight:
        focus = focus_of(snapshot, highlight)
    band = band_axis = None
    if focus is not None and n > BAND_VMAS:
        band = detail_window(vma_ranges([snapshot]), focus)
        band_axis = AddressAxis((v.start, v.end) for v in _vmas_in(vmas, band))
    dense = n > DENSE_VMAS or band is not None      # an overview is always binned
    if rows is None:
        rows = (2 if n <= DENSE_VMAS else 3) if band else auto_rows(n)
    swatches = []
    if legend:
        shown = _vmas_in(vmas, band) if band else vmas
        gaps = has_gaps(band_axis, shown, band) if band else has_gaps(axis, vmas)
        swatches = legend_for(vmas, shown if (band or not dense) else (), highlight, gaps,
                              changed=dense and bool(highlight), names=names)
    width = (figsize or default_size(n, rows, band is not None))[0]
    long_title = bool(title) and (len(title) * 8.4 + 64 * 6.4 + 40) > (width - 0.24) * 100
    return LayoutPainter(axis, size=figsize, rows=rows, dense=dense, swatches=swatches,
                         band=band, band_axis=band_axis, scale=scale, long_title=long_title,
                         n_hint=n, fig=fig, origin=origin, ticks=ticks)


def layout_figure(snapshot, *, highlight=None, title=None, figsize=None, axis=None,
                  rows=None, names=None, legend=True, focus=None, scale=1.0, ticks=False):
    """The address space of `snapshot` as a Figure (matplotlib, Agg; no pyplot).

    highlight: VMA ids to mark as changed by the current step (see `changed_vmas`).
    title: a heading; figsize: inches (default (9, 2.6) for one row, taller for more rows).
    axis: an `AddressAxis` shared by several pictures (`axis_for(trace snapshots)`), so boxes
    stay put while stepping; default: built from this snapshot alone.
    rows: wrap the axis over this many rows (default: 1 up to 40 VMAs, more above).
    names: {vma id: name} to print instead of the file label (e.g. "[heap]" from a maps file).
    focus: (lo, hi) addresses to show in a detail band under an overview (big spaces only;
    default: around the highlighted VMAs). scale: font scale (1.0; larger for a lecture room).
    ticks: write the start address of each row and of each stretch after a break under it
    (a whole process's address space, where the boxes alone do not say where they are).
    """
    highlight = frozenset(highlight or ())
    painter = layout_painter(snapshot, highlight=highlight, title=title, figsize=figsize,
                             axis=axis, rows=rows, legend=legend, focus=focus, scale=scale,
                             names=names, ticks=ticks)
    return painter.figure(snapshot, highlight=highlight, title=title, names=names)


def layout_png(snapshot, **kw) -> bytes:
    """`layout_figure(snapshot, **kw)` as PNG bytes (100 dpi)."""
    from ._mpl import to_png
    return to_png(layout_figure(snapshot, **kw))


def layout_svg(snapshot, **kw) -> str:
    """`layout_figure(snapshot, **kw)` as an SVG document (text kept as text)."""
    from ._mpl import to_svg
    return to_svg(layout_figure(snapshot, **kw))


def before_after_figure(trace, figsize=(9, 4.8), scale=1.0):
    """The trace's initial and final address spaces stacked on one shared axis, the VMAs
    the call changed marked in the "after" picture."""
    from ._mpl import new_figure
    axis = axis_for([trace.initial, trace.final])
    W, H = figsize
    from ..trace.query import diff_ids
    changed = diff_ids(trace.initial, trace.final)
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    fig = new_figure(figsize)
    for i, (snap, label, hl) in enumerate(((trace.initial, "before", ()),
                                           (trace.final, "after", changed))):
        title = f"{label} — {trace.scenario} ({trace.kernel}, {mode})"
        painter = layout_painter(snap, highlight=hl, title=title, figsize=(W, H / 2),
                                 axis=axis, rows=1, scale=scale, fig=fig,
                                 origin=(0.0, H / 2 * (1 - i)))
        painter.draw(snap, highlight=hl, title=title)
    return fig


def before_after_png(trace, figsize=(9, 4.8), scale=1.0) -> bytes:
    """`before_after_figure` as PNG bytes (for lessons and slides)."""
    from ._mpl import to_png
    return to_png(before_after_figure(trace, figsize, scale))

