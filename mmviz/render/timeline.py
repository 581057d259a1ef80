"""The lock timeline: which locks are held at every event of a trace.

One lane per lock (`mmap_lock`, each file's `i_mmap_rwsem(...)`, each anon_vma's rwsem, the
per-VMA `vma_lock(vma#N)`), a lane of driver hooks reached through function pointers, and a
lane of errors and warnings; x is the event number. A lockdep violation (a deadlock, an
unlock of a lock not held) gets a big red cross on its lock's lane, a red line through
every lane and a sentence in red above the plot: it cannot be missed. Colours and legend
come from `palette.py`, the same as every other picture.

`timeline_picture(trace)` draws the picture once, without a cursor, and says where its plot
area sits in the image, so a view moves a cursor over it (HTML) instead of redrawing it:
the widgets and the offline stepper both do. `timeline_figure(trace, cursor)` draws the
cursor into the figure (exports, slides).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..trace.query import (LockInterval, hook_spans, lock_family, lock_intervals,  # noqa: F401
                           lock_order_key)
from .narration_html import VIOLATION_TITLES, violation_title
from .timeline_tasks import draw_runs, draw_waits, group_rules, task_plan, tasks_alt
from .palette import (CURSOR, ERROR_COLOUR, HOOK_COLOUR, HOOK_EDGE, LOCK_COLOURS,  # noqa: F401
                      READ_HATCH, VIOLATION as VIOLATION_COLOUR, WARN_COLOUR, timeline_swatches)

HOOKS_LANE = "hooks (via pointer)"
EVENTS_LANE = "errors · warnings"

LEFT_IN = 1.85              # room for the lane names


def lanes(trace, intervals=None) -> list:
    """Lane names, top to bottom: the locks (in lock order), then hooks, then errors. A race's
    trace has a group per task instead: "A[1] runs", then "A[1]: <lock>" for each lock."""
    if trace.tasks:
        return task_plan(trace)[4] + [HOOKS_LANE, EVENTS_LANE]
    intervals = lock_intervals(trace) if intervals is None else intervals
    names = {iv.lock for iv in intervals} | {v.lock for v in trace.violations if v.lock}
    return sorted(names, key=lock_order_key) + [HOOKS_LANE, EVENTS_LANE]


def _lane_keys(trace, intervals):
    """(lane keys, labels, hold intervals, runs, waits): a lane per lock, or, in a race, a
    group of lanes per task keyed (pid, lock)."""
    if trace.tasks:
        holds, runs, waits, keys, labels = task_plan(trace)
        return keys + [HOOKS_LANE, EVENTS_LANE], labels + [HOOKS_LANE, EVENTS_LANE], \
            holds, runs, waits
    names = lanes(trace, intervals)
    return names, names, intervals, [], []


def violation_text(v) -> str:
    return f"{violation_title(v)} at event {v.seq}: {v.lock}"


def default_size(trace, intervals=None, width=9.0):
    return (width, max(3.0, 1.45 + 0.3 * len(lanes(trace, intervals))))


def _left_inches(labels, scale):
    """Room for the lane names: the longest one at 8 pt (about 0.075 in a character)."""
    return max(LEFT_IN, min(3.4, 0.2 + 0.068 * scale * max((len(s) for s in labels), default=0)))


@dataclass
class _Plot:
    """What every part of the picture needs: the axes, the lanes, the sizes."""

    fig: object
    ax: object
    trace: object
    intervals: list
    lane_of: dict
    n: int
    W: float
    narrow: bool
    scale: float
    keys: list = ()
    runs: list = ()
    waits: list = ()
    left: float = LEFT_IN

    def key_of(self, iv):
        """The lane of a hold: its lock's, or in a race its task's lane of that lock."""
        return (iv.pid, iv.lock) if self.trace.tasks else iv.lock

    def lock_lane(self, lock, seq):
        """The y of `lock`'s lane at event `seq` (in a race: of the task running then)."""
        if self.trace.tasks and seq < len(self.trace.events):
            mine = (self.trace.events[seq].task, lock)
            if mine not in self.lane_of:       # another task's lane of that lock
                mine = next((k for k in self.keys if isinstance(k, tuple) and k[1] == lock),
                            mine)
            lock = mine
        return self.lane_of.get(lock, self.lane_of[EVENTS_LANE])

    def fs(self, points):
        return points * self.scale

    @property
    def px_per_event(self):
        return (self.W - self.left - 0.2) * self.fig.dpi / self.n


def timeline_figure(trace, cursor=None, figsize=None, *, intervals=None, title=None, scale=1.0):
    """The lock timeline of `trace` as a Figure; `cursor` draws a line at that event.

    intervals: `lock_intervals(trace)`, if the caller already has it (it is recomputed
    otherwise). figsize defaults to (9, 3), taller when there are many lanes. scale: font
    scale (a lecture room wants 1.4).
    """
    from ._mpl import rc
    intervals = lock_intervals(trace) if intervals is None else intervals
    figsize = figsize or default_size(trace, intervals)
    with rc():
        plot = _axes(trace, intervals, figsize, title, scale)
        if trace.tasks:
            group_rules(plot, plot.keys)
            draw_runs(plot, plot.runs)
            draw_waits(plot, plot.waits, plot.intervals)
        _lock_bars(plot)
        hooks = _hook_bars(plot)
        errs, warns = _error_marks(plot)
        _violations(plot)
        _step_labels(plot)
        if cursor is not None:
            draw_cursor(plot.ax, cursor)
        if title:
            plot.fig.text(0.12 / plot.W, 1 - 0.16 / figsize[1], title, ha="left",
                          va="center", fontsize=plot.fs(10), weight="bold")
        _legend(plot, hooks, errs, warns)
    return plot.fig


def _axes(trace, intervals, figsize, title, scale):
    from matplotlib.ticker import MaxNLocator

    from ._mpl import new_figure
    keys, lane_names, intervals, runs, waits = _lane_keys(trace, intervals)
    left = _left_inches(lane_names, scale)
    W, H = figsize
    n = max(len(trace.events), 1)
    nviol = len(trace.violations)
    narrow = W < 8          # slide columns and side-by-side views: smaller type, wrapped legend
    fig = new_figure(figsize)
    top_in = (0.3 + (0.22 * min(nviol, 3) if nviol else 0.0) + (0.22 if title else 0.0)) * scale
    bottom_in = (0.78 + (0.2 if narrow else 0.0)) * scale
    ax = fig.add_axes([left / W, bottom_in / H, (W - left - 0.2) / W,
                       (H - top_in - bottom_in) / H])
    ax.set_gid("mmviz-timeline-axes")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(len(lane_names) - 0.5, -0.5)
    ax.set_yticks(range(len(lane_names)))
    ax.set_yticklabels(lane_names, fontsize=8 * scale)
    for lbl, name, key in zip(ax.get_yticklabels(), lane_names, keys):
        if name in (HOOKS_LANE, EVENTS_LANE):
            lbl.set_style("italic")
        if isinstance(key, tuple) and key[1] is None:      # a task's "runs" lane
            lbl.set_weight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("event", fontsize=8 * scale, labelpad=2)
    ax.tick_params(axis="x", labelsize=8 * scale)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True, min_n_ticks=1))
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    for y in range(len(lane_names)):
        ax.axhline(y, color="#eeeeee", lw=0.8, zorder=0)
    ax.axhline(len(lane_names) - 2.5, color="#cccccc", lw=0.8, zorder=0)  # locks | hooks+errors
    return _Plot(fig, ax, trace, intervals, {key: i for i, key in enumerate(keys)}, n,
                 W, narrow, scale, keys, runs, waits, left)


def _lock_bars(plot):
    """A bar per hold: the lock family's colour, white and hatched when held for read."""
    from matplotlib.collections import PolyCollection
    groups, still_held = {}, []
    for iv in plot.intervals:
        y = plot.lane_of[plot.key_of(iv)]
        x0 = iv.start if iv.start >= 0 else -0.5
        x1 = iv.end if iv.end is not None else plot.n - 0.5
        key = (lock_family(iv.lock), iv.mode == "read")
        groups.setdefault(key, []).append([(x0, y - 0.28), (x0, y + 0.28), (x1, y + 0.28),
                                           (x1, y - 0.28)])
        if iv.end is None:
            still_held.append((x0, x1, y, iv.mode == "read"))
    for (fam, read), polys in groups.items():
        colour = LOCK_COLOURS[fam]
        pc = PolyCollection(polys, facecolors=colour if not read else "white",
                            edgecolors=colour, hatch=READ_HATCH if read else None,
                            linewidths=1.0, alpha=0.9, zorder=2)
        pc.set_gid(f"mmviz-lock-{fam}{'-read' if read else ''}")
        plot.ax.add_collection(pc)
    stuck = plot.trace.result.outcome == "deadlock"
    for x0, x1, y, read in still_held:
        plot.ax.annotate("", xy=(x1 + 0.45, y), xytext=(x1 - 0.6, y), zorder=3,
                         arrowprops=dict(arrowstyle="-|>", color="black", lw=1.2))
        if stuck:
            plot.ax.text((x0 + x1) / 2, y, "never released", ha="center", va="center",
                         fontsize=plot.fs(7), color="black" if read else "white", weight="bold",
                         zorder=4, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                             alpha=0.85) if read else None)


def _hook_bars(plot):
    """The hooks lane: a bar while a driver hook runs, a ◆ where it is called, its name."""
    from matplotlib.collections import PolyCollection
    yh = plot.lane_of[HOOKS_LANE]
    hooks = hook_spans(plot.trace)
    polys = []
    for name, s, e, ret in hooks:
        x1 = max(e if e is not None else plot.n - 0.5, s + 0.35)
        x0 = s - 0.35 if e == s + 1 else s
        polys.append([(x0, yh - 0.22), (x0, yh + 0.22), (x1, yh + 0.22), (x1, yh - 0.22)])
    if not polys:
        return hooks
    pc = PolyCollection(polys, facecolors=HOOK_COLOUR, edgecolors=HOOK_EDGE, linewidths=1.0,
                        zorder=2)
    pc.set_gid("mmviz-hooks")
    plot.ax.add_collection(pc)
    plot.ax.scatter([h[1] for h in hooks], [yh] * len(hooks), marker="D", s=22, color=HOOK_EDGE,
                    zorder=3, label="hook call")
    last_right = [-1e9, -1e9]          # name the hooks where there is room, above and below
    for name, s, e, ret in hooks:
        text = name + (f" → {ret}" if ret and ret not in ("0", "None") else "")
        wev = (len(text) * 5.2 * plot.scale + 6) / plot.px_per_event
        side = 0 if s - wev / 2 > last_right[0] else 1
        if s - wev / 2 <= last_right[side]:
            continue
        last_right[side] = s + wev / 2
        plot.ax.text(s, yh - 0.3 if side == 0 else yh + 0.3, text, ha="center",
                     va="bottom" if side == 0 else "top", fontsize=plot.fs(7), color="#4d3400",
                     zorder=4, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                         alpha=0.75))
    return hooks


def _error_marks(plot):
    ye = plot.lane_of[EVENTS_LANE]
    errs = [e.seq for e in plot.trace.events if e.kind == "error"]
    warns = [e.seq for e in plot.trace.events if e.kind == "warn"]
    for seqs, marker, colour in ((errs, "X", ERROR_COLOUR), (warns, "^", WARN_COLOUR)):
        if seqs:
            plot.ax.scatter(seqs, [ye] * len(seqs), marker=marker, s=70, color=colour,
                            edgecolors="black", linewidths=0.6, zorder=4)
    return errs, warns


def _violations(plot):
    """A red line through every lane, a big red ✖ on the lock's lane, a headline above."""
    trace, ax = plot.trace, plot.ax
    nviol = len(trace.violations)
    for k, v in enumerate(trace.violations):
        y = plot.lock_lane(v.lock, v.seq)
        ax.axvline(v.seq, color=VIOLATION_COLOUR, lw=2.0, alpha=0.85, zorder=5)
        ax.scatter([v.seq], [y], marker="X", s=260, color=VIOLATION_COLOUR, edgecolors="white",
                   linewidths=1.2, zorder=6)
        if k >= 3:
            continue
        frac = (v.seq + 0.5) / plot.n
        # Grow the headline toward the wider side so it stays inside the figure.
        ha = ("left" if frac < 0.35 else ("right" if frac > 0.65 else "center")) \
            if not plot.narrow else ("left" if frac < 0.5 else "right")
        ax.annotate(violation_text(v), xy=(v.seq, -0.5), xycoords="data",
                    xytext=(0, 16 + 15 * (min(nviol, 3) - 1 - k)), textcoords="offset points",
                    ha=ha, va="bottom", fontsize=plot.fs(9 if not plot.narrow else 7.5),
                    weight="bold", color=VIOLATION_COLOUR, zorder=7, annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", color=VIOLATION_COLOUR, lw=1.5,
                                    relpos={"left": (0, 0), "right": (1, 0)}.get(ha, (0.5, 0))))


def _step_labels(plot):
    """The spec §2.3 step labels along the top, where they do not collide."""
    steps = []
    for e in plot.trace.events:
        if e.step and (not steps or (e.seq - steps[-1][0]) * plot.px_per_event >= 20 * plot.scale):
            steps.append((e.seq, e.step))
    if not steps:
        return
    sec = plot.ax.secondary_xaxis("top")
    sec.set_xticks([s for s, _ in steps])
    sec.set_xticklabels([lbl for _, lbl in steps], fontsize=plot.fs(7), color="#555555")
    sec.tick_params(axis="x", length=3, pad=1)
    sec.spines["top"].set_visible(False)


def _legend(plot, hooks, errs, warns):
    from ._mpl import legend_handles
    fams = {lock_family(iv.lock) for iv in list(plot.intervals) + list(plot.waits)}
    swatches = timeline_swatches(fams, read=any(iv.mode == "read" for iv in plot.intervals),
                                 runs=bool(plot.runs), waits=bool(plot.waits),
                                 hooks=bool(hooks), errors=bool(errs), warnings=bool(warns),
                                 violations=bool(plot.trace.violations))
    if not swatches:
        return
    cols = 7 if not plot.narrow else max(2, int((plot.W - 0.4) / 1.35))
    rows = -(-len(swatches) // cols)
    plot.fig.legend(handles=legend_handles(swatches, plot.scale), loc="lower center",
                    ncol=-(-len(swatches) // rows), fontsize=plot.fs(8 if not plot.narrow else 7),
                    frameon=False, handlelength=1.8, columnspacing=1.2,
                    bbox_to_anchor=(0.5, 0.0))


def draw_cursor(ax, cursor):
    """The cursor drawn into a figure (exports): a black line and a ▼ at the top."""
    ax.axvline(cursor, color=CURSOR, lw=1.6, zorder=8)
    ax.scatter([cursor], [-0.5], marker="v", s=60, color=CURSOR, zorder=9, clip_on=False)


def axes_pixel_box(fig, ax=None) -> dict:
    """Where the plot area sits in the saved image, for a cursor overlaid in HTML.

    Returns image width/height in pixels, the plot area's left/right/top/bottom in pixels
    from the image's top-left corner, and the data range xmin..xmax across it. Valid for
    PNG/SVG saved at the figure's dpi without bbox_inches="tight".
    """
    if ax is None:
        ax = next((a for a in fig.axes if a.get_gid() == "mmviz-timeline-axes"), fig.axes[0])
    w = fig.get_figwidth() * fig.dpi
    h = fig.get_figheight() * fig.dpi
    pos = ax.get_position()
    xmin, xmax = ax.get_xlim()
    return {"width": w, "height": h, "left": pos.x0 * w, "right": pos.x1 * w,
            "top": (1 - pos.y1) * h, "bottom": (1 - pos.y0) * h, "xmin": xmin, "xmax": xmax}


@dataclass(frozen=True)
class TimelinePicture:
    """A trace's timeline drawn once, and where a cursor over it goes (in % of the image)."""

    png: bytes
    box: dict                  # axes_pixel_box of the image
    alt: str                   # the holds in words

    def cursor_left(self, seq) -> float:
        """The cursor's x at event `seq`, in percent of the image width."""
        b = self.box
        x = b["left"] + (seq - b["xmin"]) / (b["xmax"] - b["xmin"]) * (b["right"] - b["left"])
        return 100 * x / b["width"]

    @property
    def cursor_top(self) -> float:
        return 100 * self.box["top"] / self.box["height"]

    @property
    def cursor_height(self) -> float:
        return 100 * (self.box["bottom"] - self.box["top"]) / self.box["height"]

    def cursor_html(self, seq, cls="mmviz-cursor") -> str:
        """A cursor element placed over the image (its container must be position:relative,
        or share its grid cell): a black line and a ▼ above the plot."""
        if seq is None or seq < 0:
            return f"<div class='{cls}' data-seq='-1' style='display:none'></div>"
        return (f"<div class='{cls}' data-seq='{seq}' style='position:absolute;"
                f"left:{self.cursor_left(seq):.3f}%;top:{self.cursor_top:.3f}%;"
                f"height:{self.cursor_height:.3f}%;width:0;border-left:2px solid {CURSOR};"
                f"pointer-events:none'><div style='position:absolute;left:-7px;top:-9px;"
                f"width:0;height:0;border:6px solid transparent;border-top:8px solid "
                f"{CURSOR}'></div></div>")


def timeline_picture(trace, *, width=9.0, scale=1.0, compact=False, intervals=None):
    """The trace's timeline without a cursor, as PNG, once (views overlay the cursor)."""
    from ._mpl import compact_png, to_png
    intervals = lock_intervals(trace) if intervals is None else intervals
    fig = timeline_figure(trace, None, figsize=default_size(trace, intervals, width),
                          intervals=intervals, scale=scale)
    keep_texts_inside(fig)
    png = to_png(fig, dpi=150 if compact else 100)
    if compact:
        png = compact_png(png)
    box = axes_pixel_box(fig)
    if compact:
        box = {k: (v * 1.5 if k not in ("xmin", "xmax") else v) for k, v in box.items()}
    return TimelinePicture(png, box, timeline_alt(trace, intervals))


def timeline_alt(trace, intervals) -> str:
    if trace.tasks:
        holds, _runs, waits, _keys, _labels = task_plan(trace)
        return ("Lock timeline of each task: " + (tasks_alt(trace, holds, waits)
                                                 or "no locks taken"))[:1500]
    holds = "; ".join(f"{iv.lock} held from event {max(iv.start, 0)} to "
                      + (str(iv.end) if iv.end is not None else "the end") for iv in intervals)
    return ("Lock timeline: " + (holds or "no locks taken"))[:1500]


def keep_texts_inside(fig) -> bool:
    """Re-anchor annotations that would be cut at the figure's edge (a narrow figure and a
    long violation headline); True if one moved."""
    from matplotlib.text import Annotation
    from ._mpl import rc
    with rc():
        renderer = fig.canvas.get_renderer()
        width = fig.bbox.width
        moved = False
        for ax in fig.axes:
            for t in ax.texts:
                if isinstance(t, Annotation) and _reanchor(t, renderer, width):
                    moved = True
    return moved


def _reanchor(t, renderer, width) -> bool:
    box = t.get_window_extent(renderer)
    if box.x0 >= 2 and box.x1 <= width - 2:
        return False
    if box.width > width - 8:                  # wider than the figure: smaller type
        t.set_fontsize(t.get_fontsize() * (width - 8) / box.width)
    for side in ("right", "left", "center"):
        t.set_horizontalalignment(side)
        if t.arrowprops is not None:
            t.arrowprops["relpos"] = {"right": (1, 0), "left": (0, 0)}.get(side, (0.5, 0))
        box = t.get_window_extent(renderer)
        if box.x0 >= 0 and box.x1 <= width:
            break
    return True


def timeline_png(trace, cursor=None, **kw) -> bytes:
    from ._mpl import to_png
    return to_png(timeline_figure(trace, cursor, **kw))


def timeline_svg(trace, cursor=None, **kw) -> str:
    from ._mpl import to_svg
    return to_svg(timeline_figure(trace, cursor, **kw))
