"""The widgets' fast drawing path: persistent figures updated in place and blitted.

`mmviz.render` draws a fresh, pure picture for every call (right for exports and slides).
A stepper redraws the same two pictures on every step, so here each picture keeps one
matplotlib `Figure` (never pyplot) whose static part is drawn once; a step restores that
background, draws only the artists that change and encodes the pixels with Pillow at a
fast PNG level (the last row of the drawing-speed table in notes/jupyter-stack.md).

A drawer is not thread-safe: `FrameRenderer` gives each thread its own drawers. The
inputs are frozen snapshots, so drawers never touch the model.
"""

from __future__ import annotations

import io
import math

PAGE_SHIFT = 12
DPI = 100
WIDTH_IN = 7.0

# The visual language of mmviz.render.layout (so a stepped picture reads like an exported
# one): Okabe-Ito colours, each paired with a hatch or an outline style. Taken from the
# renderer when it is importable, with the same defaults here if it is not.
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#8C8C8C"}
KINDS = {"anon": (OKABE_ITO["sky"], "#1f5f85", "", "anonymous"),
         "file": (OKABE_ITO["orange"], "#7a5200", "//", "file-backed"),
         "special": (OKABE_ITO["purple"], "#6e2f58", "xx", "VM_SPECIAL (never merges)")}
HIDDEN = dict(edge=OKABE_ITO["green"], hatch="oo", linestyle=(0, (1.2, 1.2)), lw=2.4,
              label="hidden from rmap (i_mmap_rwsem held)")
LOCKED = dict(edge=OKABE_ITO["blue"], lw=3.2, label="write-locked (vma_start_write)")
DETACHED = dict(alpha=0.33, linestyle=(0, (4, 2)), label="detached (in flight)")
CHANGED = dict(edge=OKABE_ITO["vermillion"], lw=6.0, label="changed by this step")
try:
    from ..render.layout import (CHANGED_STYLE as CHANGED, DETACHED_STYLE as DETACHED,  # noqa: F811
                                 HIDDEN_STYLE as HIDDEN, KINDS, LOCKED_STYLE as LOCKED)
except Exception:      # the renderer is absent or changed shape: keep the defaults above
    pass
HIGHLIGHT = CHANGED["edge"]
LOCK_COLOURS = {"mmap_lock": OKABE_ITO["blue"], "vma_lock": OKABE_ITO["green"],
                "i_mmap_rwsem": OKABE_ITO["orange"], "anon_vma": OKABE_ITO["purple"]}
VIOLATION = "#d1242f"


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:g} {unit}" if n == int(n) else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n} B"


def vma_kind(v) -> str:
    if v.special:
        return "special"
    return "file" if v.file else "anon"


def png_of(canvas) -> bytes:
    """The canvas pixels as PNG, encoded fast (zlib level 1, RGB)."""
    from PIL import Image
    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


def all_snapshots(trace):
    yield trace.initial
    for e in trace.events:
        yield e.snapshot
    yield trace.final


def short_file(label):
    """'/mnt/notes#1' -> '/mnt/notes'; None -> 'anonymous'."""
    if label is None:
        return "anonymous"
    return label.rsplit("#", 1)[0]


def lock_family(name: str) -> str:
    for fam in ("vma_lock", "i_mmap_rwsem", "anon_vma"):
        if name.startswith(fam):
            return fam
    return "mmap_lock" if name == "mmap_lock" else "other"


def address_axis(snapshots):
    """The renderer's shared axis for these snapshots, so boxes sit where exported pictures
    put them."""
    from ..render.layout import axis_for
    return axis_for(list(snapshots))


def legend_handles(snapshots):
    """Legend entries for every kind and state that appears anywhere in the snapshots."""
    from matplotlib.patches import Patch
    kinds, states = set(), set()
    for s in snapshots:
        for v in s.vmas:
            kinds.add(vma_kind(v))
            states.update(k for k, on in (("hidden", v.hidden), ("locked", v.write_locked),
                                          ("detached", v.detached)) if on)
    h = [Patch(facecolor=KINDS[k][0], edgecolor=KINDS[k][1], hatch=KINDS[k][2] or None,
               label=KINDS[k][3]) for k in KINDS if k in kinds]
    if "hidden" in states:
        h.append(Patch(facecolor="white", edgecolor=HIDDEN["edge"], hatch=HIDDEN["hatch"],
                       linestyle=HIDDEN["linestyle"], lw=1.8, label=HIDDEN["label"]))
    if "locked" in states:
        h.append(Patch(facecolor="white", edgecolor=LOCKED["edge"], lw=2.4, label=LOCKED["label"]))
    if "detached" in states:
        h.append(Patch(facecolor=(0.6, 0.6, 0.6, DETACHED["alpha"]), edgecolor="#555555",
                       linestyle=DETACHED["linestyle"], label=DETACHED["label"]))
    h.append(Patch(facecolor="white", edgecolor=CHANGED["edge"], lw=2.6, label=CHANGED["label"]))
    return h


class LayoutDrawer:
    """The address space at one instant: VMA boxes on the trace's shared address axis, their
    state (write-locked, hidden, detached, changed) and whether each is in its file's i_mmap."""

    BOX = (0.30, 0.86)          # box rows in axes units (0..1)
    RMAP = (0.13, 0.21)         # the "in i_mmap" strip under file VMAs
    FONT = 7.5
    CHAR_PX = 5.2
    LINE_PX = 11.5

    def __init__(self, axis, snapshots=(), height_in: float = 2.3, width_in: float = WIDTH_IN):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        self.axis = axis
        self.width_in = width_in
        snapshots = list(snapshots)
        self.fig = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        handles = legend_handles(snapshots) if snapshots else []
        leg_rows = math.ceil(len(handles) / (3 if width_in >= 6 else 2)) if handles else 0
        bottom_in = 0.1 + 0.19 * leg_rows
        top_in = 0.26
        left = 0.6 / width_in
        ax = self.ax = self.fig.add_axes((left, bottom_in / height_in, 0.975 - left,
                                          (height_in - top_in - bottom_in) / height_in))
        ax.set_axis_off()
        total = max(axis.total, 1e-9)
        pad = total * 0.012
        ax.set_xlim(-pad, total + pad)
        ax.set_ylim(0, 1)
        pos = ax.get_position()
        self.px_x = pos.width * width_in * DPI / (total + 2 * pad)
        self.px_y = pos.height * height_in * DPI
        self._static(handles)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self._pools = {}
        self.title = self.fig.text(left, 1 - 0.14 / height_in, "", fontsize=9.5,
                                   fontweight="bold", va="center", animated=True)
        self.info = self.fig.text(0.975, 1 - 0.14 / height_in, "", fontsize=7.5, ha="right",
                                  va="center", color="#444444", animated=True)
        self.empty = ax.text(total / 2, 0.58, "no VMAs: nothing is mapped", ha="center",
                             va="center", fontsize=10, color="#555555", style="italic",
                             animated=True)

    def _static(self, handles):
        ax, axis = self.ax, self.axis
        lo = self.BOX[0]
        ax.plot([0, axis.total], [lo - 3 / self.px_y] * 2, color="#b0b0b0", lw=0.8)
        rm = sum(self.RMAP) / 2
        self.fig.text(0.01, self.ax.get_position().y0 + rm * self.ax.get_position().height,
                      "in i_mmap", fontsize=7, va="center", color="#555555")
        self.fig.text(0.01, self.ax.get_position().y0 + sum(self.BOX) / 2 *
                      self.ax.get_position().height, "VMAs", fontsize=8, va="center",
                      color="#333333")
        for kind, a0, a1, x0, x1 in axis.pieces:
            if kind != "break":
                continue
            xm = (x0 + x1) / 2
            dx = min(0.18 * (x1 - x0), 6 / self.px_x)
            for off in (-dx, dx):
                ax.plot([xm + off - dx * 0.6, xm + off + dx * 0.6], [0.5, 0.62], color="#555555",
                        lw=1.1)
            ax.text(xm, lo - 7 / self.px_y, human_bytes(a1 - a0), ha="center", va="top",
                    fontsize=6.5, color="#555555")
        if handles:
            ncol = 3 if self.width_in >= 6 else 2
            self.fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7,
                            frameon=False, handlelength=2.0, handleheight=1.0,
                            columnspacing=1.2, borderaxespad=0.1, bbox_to_anchor=(0.5, 0.0))

    def _pool(self, name, k, make):
        pool = self._pools.setdefault(name, [])
        while len(pool) <= k:
            a = make()
            a.set_animated(True)
            pool.append(a)
        return pool[k]

    def _rect(self, name, k):
        from matplotlib.patches import Rectangle
        return self._pool(name, k, lambda: self.ax.add_patch(Rectangle((0, 0), 1, 1)))

    def _text(self, name, k):
        return self._pool(name, k, lambda: self.ax.text(0, 0, "", ha="center", va="center",
                                                        fontsize=self.FONT, linespacing=1.12))

    def label(self, v, wpx, hpx):
        chars = int((wpx - 6) / self.CHAR_PX)
        nlines = int((hpx - 4) / self.LINE_PX)
        if chars < 3 or nlines < 1:
            return ""
        if chars < 10:
            return f"#{v.id}"
        states = [w for w, on in (("write-locked", v.write_locked), ("hidden", v.hidden),
                                  ("detached", v.detached)) if on]
        where = (f"{short_file(v.file)} @pgoff {v.pgoff:#x}" if v.file else
                 "anonymous" + (f", anon_vma#{v.anon_vma}" if v.anon_vma is not None else ""))
        lines = [f"vma#{v.id} {v.perms}", f"{v.start:#x}–{v.end:#x}", where,
                 human_bytes(v.end - v.start)]
        if states:
            lines.append(", ".join(states))
        keep = lines[:nlines]
        if states and keep[-1] != lines[-1]:
            keep[-1] = lines[-1]          # the state words matter more than the size
        return "\n".join(t if len(t) <= chars else t[:chars - 1] + "…" for t in keep)

    def draw(self, snapshot, highlight=frozenset(), title="", info=None) -> bytes:
        canvas, ax, axis = self.canvas, self.ax, self.axis
        canvas.restore_region(self.background)
        vmas = sorted(snapshot.vmas, key=lambda v: (v.start, v.detached))
        attached = [(v.start, v.end) for v in vmas if not v.detached]
        rmap = {vid for _, ids in snapshot.i_mmap for vid in ids}
        lo, hi = self.BOX
        geo = []
        for v in vmas:
            x0, x1 = axis.x(v.start), axis.x(v.end)
            top = hi
            if v.detached and any(s < v.end and v.start < e for s, e in attached):
                top = (lo + hi) / 2 - 0.02          # share the slot: detached below
            geo.append((v, x0, x1, lo, top))
        ox, oy = 3.5 / self.px_x, 3.5 / self.px_y
        k = 0
        for v, x0, x1, y0, y1 in geo:                      # halos under everything
            if v.id in highlight:
                r = self._rect("halo", k)
                k += 1
                r.set_bounds(x0 - ox, y0 - oy, x1 - x0 + 2 * ox, y1 - y0 + 2 * oy)
                r.set_facecolor("none")
                r.set_edgecolor(CHANGED["edge"])
                r.set_linewidth(CHANGED["lw"])
                r.set_joinstyle("round")
                ax.draw_artist(r)
        for k, (v, x0, x1, y0, y1) in enumerate(geo):     # the boxes
            face, edge, hatch, _ = KINDS[vma_kind(v)]
            r = self._rect("box", k)
            r.set_bounds(x0, y0, x1 - x0, y1 - y0)
            r.set_facecolor(face)
            r.set_edgecolor("#333333" if v.detached else edge)
            r.set_hatch(hatch or None)
            r.set_alpha(DETACHED["alpha"] if v.detached else None)
            r.set_linestyle(DETACHED["linestyle"] if v.detached else "solid")
            r.set_linewidth(1.3 if v.detached else 1.0)
            ax.draw_artist(r)
        k = 0
        for v, x0, x1, y0, y1 in geo:                      # state outlines
            if v.write_locked:
                r = self._rect("locked", k)
                k += 1
                r.set_bounds(x0, y0, x1 - x0, y1 - y0)
                r.set_facecolor("none")
                r.set_edgecolor(LOCKED["edge"])
                r.set_linewidth(LOCKED["lw"])
                ax.draw_artist(r)
        k = 0
        for v, x0, x1, y0, y1 in geo:
            if v.hidden:
                ix = min(3.5 / self.px_x, (x1 - x0) * 0.2)
                r = self._rect("hidden", k)
                k += 1
                r.set_bounds(x0 + ix, y0 + oy, x1 - x0 - 2 * ix, y1 - y0 - 2 * oy)
                r.set_facecolor("none")
                r.set_edgecolor(HIDDEN["edge"])
                r.set_hatch(HIDDEN["hatch"])
                r.set_linewidth(HIDDEN["lw"])
                r.set_linestyle(HIDDEN["linestyle"])
                ax.draw_artist(r)
        k = 0
        r0, r1 = self.RMAP
        for v, x0, x1, y0, y1 in geo:                      # rmap membership
            if v.file is None or v.detached:
                continue
            inside = v.id in rmap
            r = self._rect("rmap", k)
            k += 1
            r.set_bounds(x0 + 0.02 * (x1 - x0), r0, 0.96 * (x1 - x0), r1 - r0)
            r.set_facecolor(KINDS["file"][0] if inside else "white")
            r.set_edgecolor("#555555")
            r.set_linewidth(0.8)
            r.set_hatch(HIDDEN["hatch"] if (inside and v.hidden) else None)
            r.set_linestyle("solid" if inside else (0, (2, 2)))
            ax.draw_artist(r)
        k = 0
        for v, x0, x1, y0, y1 in geo:                      # labels
            text = self.label(v, (x1 - x0) * self.px_x, (y1 - y0) * self.px_y)
            if not text:
                continue
            t = self._text("label", k)
            k += 1
            t.set_text(text)
            t.set_position(((x0 + x1) / 2, (y0 + y1) / 2))
            t.set_bbox(dict(boxstyle="round,pad=0.18", fc="white", ec="none", alpha=0.82))
            ax.draw_artist(t)
        k = 0
        for v, x0, x1, y0, y1 in geo:                      # "changed" markers
            if v.id in highlight:
                t = self._text("mark", k)
                k += 1
                t.set_text("▼")
                t.set_color(CHANGED["edge"])
                t.set_fontsize(10)
                t.set_clip_on(False)
                t.set_position(((x0 + x1) / 2, y1 + 10 / self.px_y))
                ax.draw_artist(t)
        if not vmas:
            ax.draw_artist(self.empty)
        self.title.set_text(title)
        self.fig.draw_artist(self.title)
        if info is None:
            n = len(snapshot.vmas)
            info = f"{n} VMA{'s' if n != 1 else ''} · map_count {snapshot.map_count}"
            pa = snapshot.pending_action
            if pa is not None:
                info += f" · pending action {pa.type}" + (
                    " (hide from rmap)" if pa.hide_from_rmap_until_complete else "")
        self.info.set_text(info)
        self.fig.draw_artist(self.info)
        return png_of(canvas)


def lock_rows(trace):
    """Every lock the trace takes, in order of first appearance, with its held intervals.

    Returns [(lock name, [(first seq, last seq + 1), ...])]. Column i of the timeline shows
    the locks held after event i.
    """
    order, spans, open_at = [], {}, {}
    prev = set(trace.initial.locks_held)
    for name in trace.initial.locks_held:
        order.append(name)
        spans[name] = []
        open_at[name] = 0
    for e in trace.events:
        now = set(e.snapshot.locks_held)
        for name in e.snapshot.locks_held:
            if name not in prev:
                if name not in spans:
                    order.append(name)
                    spans[name] = []
                open_at[name] = e.seq
        for name in prev - now:
            spans[name].append((open_at.pop(name), e.seq))
        prev = now
    for name in prev:
        spans[name].append((open_at.pop(name), len(trace.events)))
    for e in trace.events:          # a lock that only appears in a violation (never held)
        lock = e.data.get("lock")
        if e.kind == "violation" and lock and lock not in spans:
            order.append(lock)
            spans[lock] = []
    return [(name, spans[name]) for name in order]


class ReferenceTimelineDrawer:
    """`mmviz.render.timeline`'s picture drawn once, its cursor moved by blitting.

    The figure is the renderer's own (`timeline_figure(trace, cursor=None)`), so the
    stepper shows exactly what an export shows; only the cursor line and its marker are
    redrawn per step, in the renderer's cursor style (black line, ▼ at the top).
    """

    def __init__(self, trace, width_in: float = WIDTH_IN):
        from matplotlib.lines import Line2D

        from ..render import timeline as T
        try:
            from ..render._mpl import rc
        except ImportError:         # pragma: no cover - the renderer's private helper moved
            import contextlib
            rc = contextlib.nullcontext
        intervals = T.lock_intervals(trace)
        nlanes = len(T.lanes(trace, intervals))
        self.n = max(len(trace.events), 1)
        with rc():
            size = (width_in, max(2.8, 1.45 + 0.3 * nlanes))
            self.fig = T.timeline_figure(trace, None, figsize=size, intervals=intervals)
            self.canvas = self.fig.canvas
            self.ax = next((a for a in self.fig.axes if a.get_gid() == "mmviz-timeline-axes"),
                           self.fig.axes[0])
            self.canvas.draw()
            if _keep_texts_inside(self.fig):
                self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        lo, hi = self.ax.get_ylim()
        self.line = Line2D([0, 0], [lo, hi], color="black", lw=1.6, animated=True, zorder=8)
        self.mark = Line2D([0], [min(lo, hi)], marker="v", ms=8, color="black", animated=True,
                           clip_on=False, zorder=9)
        self.ax.add_line(self.line)
        self.ax.add_line(self.mark)

    def draw(self, i) -> bytes:
        self.canvas.restore_region(self.background)
        if 0 <= i < self.n:
            self.line.set_xdata([i, i])
            self.mark.set_xdata([i])
            self.ax.draw_artist(self.line)
            self.ax.draw_artist(self.mark)
        return png_of(self.canvas)


def _keep_texts_inside(fig) -> bool:
    """Re-anchor annotations that would be cut at the figure's edge (a narrow figure and a
    long violation headline); True if one moved. The picture is otherwise the renderer's."""
    from matplotlib.text import Annotation
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    moved = False
    for ax in fig.axes:
        for t in ax.texts:
            if not isinstance(t, Annotation):
                continue
            box = t.get_window_extent(renderer)
            if box.x0 >= 2 and box.x1 <= width - 2:
                continue
            if box.width > width - 8:                  # wider than the figure: smaller type
                t.set_fontsize(t.get_fontsize() * (width - 8) / box.width)
            for side in ("right", "left", "center"):
                t.set_horizontalalignment(side)
                if t.arrowprops is not None:
                    t.arrowprops["relpos"] = {"right": (1, 0), "left": (0, 0)}.get(side, (0.5, 0))
                box = t.get_window_extent(renderer)
                if box.x0 >= 0 and box.x1 <= width:
                    break
            moved = True
    return moved


def timeline_drawer(trace, width_in: float = WIDTH_IN):
    """The renderer's timeline with a blitted cursor, or the stand-in below without it."""
    try:
        return ReferenceTimelineDrawer(trace, width_in)
    except Exception:
        return TimelineDrawer(trace, width_in)


class TimelineDrawer:
    """Stand-in when mmviz.render.timeline is missing: locks held per event, hooks and errors
    marked, and a cursor column."""

    def __init__(self, trace, width_in: float = WIDTH_IN):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle
        self.n = n = max(len(trace.events), 1)
        self.rows = lock_rows(trace)
        nrows = len(self.rows) + 1                  # + the "events" row at the top
        height = 0.95 + 0.3 * nrows
        self.fig = Figure(figsize=(width_in, height), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        bottom, top = 0.32 / height, 1 - 0.4 / height
        ax = self.ax = self.fig.add_axes((0.245, bottom, 0.74, top - bottom))
        ax.set_xlim(0, n)
        ax.set_ylim(-0.5, nrows - 0.5)
        ax.invert_yaxis()
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="both", labelsize=7, length=2)
        ax.set_yticks(range(nrows))
        ax.set_yticklabels(["events"] + [name for name, _ in self.rows], fontsize=7.5,
                           family="monospace")
        step = 10 if n > 30 else 5
        ax.set_xticks([t + 0.5 for t in range(0, n, step)])
        ax.set_xticklabels([str(t) for t in range(0, n, step)])
        for row, (name, spans) in enumerate(self.rows, start=1):
            colour = LOCK_COLOURS.get(lock_family(name), "#777777")
            for a, b in spans:
                ax.add_patch(Rectangle((a, row - 0.3), b - a, 0.6, facecolor=colour,
                                       edgecolor="none", alpha=0.85))
        if not self.rows:
            ax.text(n / 2, 1, "no locks taken", ha="center", va="center", fontsize=8,
                    color="#666666")
        row_of = {name: r for r, (name, _) in enumerate(self.rows, start=1)}
        last_step_x = -99
        level = 0
        for e in trace.events:
            x = e.seq + 0.5
            if e.kind == "hook" and e.data.get("phase") == "enter":
                ax.plot([x], [0], marker="v", color="#5a5a5a", ms=5)
            elif e.kind in ("error", "warn"):
                ax.plot([x], [0], marker="o", color=VIOLATION if e.kind == "error" else
                        "#d4a017", ms=5)
            elif e.kind == "violation":
                ax.plot([x], [row_of.get(e.data.get("lock"), 0)], marker="X", color=VIOLATION,
                        ms=9, markeredgecolor="white", markeredgewidth=0.8)
                ax.plot([x], [0], marker="X", color=VIOLATION, ms=7)
            if e.step:
                level = level + 1 if x - last_step_x < 3.2 * n / 83 else 0
                last_step_x = x if level == 0 else last_step_x
                ax.text(x, -0.62 - 0.38 * (level % 2), e.step, ha="center", va="bottom",
                        fontsize=6.5, color="#444444")
                ax.plot([x, x], [-0.45, nrows - 0.5], color="#cccccc", lw=0.5, zorder=0)
        self.fig.text(0.01, 1 - 0.16 / height, "locks held after each event", fontsize=8,
                      va="center", fontweight="bold", color="#333333")
        self.fig.text(0.01, 1 - 0.36 / height, "▼ hook called   ● error   ✖ violation",
                      fontsize=7, va="center", color="#555555")
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.cursor = Rectangle((0, -0.5), 1, nrows, facecolor="#e0550b", alpha=0.28,
                                edgecolor=HIGHLIGHT, linewidth=1.2, animated=True)
        ax.add_patch(self.cursor)

    def draw(self, i) -> bytes:
        self.canvas.restore_region(self.background)
        self.cursor.set_x(min(max(i, 0), self.n - 1))
        self.ax.draw_artist(self.cursor)
        return png_of(self.canvas)
