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

from ..trace.query import hook_spans, lock_family, lock_intervals, lock_order_key
from .narration_html import violation_title
from .timeline_tasks import draw_runs, draw_waits, group_rules, task_plan, tasks_alt
from .palette import (CURSOR, ERROR_COLOUR, HOOK_COLOUR, HOOK_EDGE, LOCK_COLOURS,  # noqa: F401
                      READ_HATCH, VIOLATION as VIOLATION_COLOUR, WARN_COLOUR, timeline_swatches)

HOOKS_LANE = "hooks (via pointer)"
EVENTS_LANE = "errors · warnings"

LEFT_IN = 1.85              # room for the lane names (at least; long names get more)
MIN_FONT = 8                # the smallest text of a timeline picture, in points at scale 1
CHAR_EM = 0.62              # average width of a lane-name character, in ems


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


def lane_label(name: str, max_chars: int) -> str:
    """A lane name as one line, or wrapped after '(' and '/' (never cut) when longer than
    max_chars: 'i_mmap_rwsem(/usr/lib/x86_64-linux-gnu/libc.so.6)' keeps every character."""
    if len(name) <= max_chars:
        return name
    parts, cur = [], ""
    for ch in name:
        cur += ch
        if ch in "(/," and len(cur) >= 4:
            parts.append(cur)
            cur = ""
    parts.append(cur)
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) > max_chars:
            lines.append(line)
            line = ""
        line += part
    lines.append(line)
    return "\n".join(lines)


def _left_in(names, width, scale) -> tuple:
    """(left margin in inches, characters per line of a lane name): wide enough for the
    longest name on one line when that leaves the plot half the width, else wrapped."""
    fs = 8 * scale
    per_char = fs * CHAR_EM / 72
    longest = max((len(n) for n in names), default=0)
    room = max(LEFT_IN * scale, (longest + 2) * per_char)
    cap = max(LEFT_IN, 0.45 * width)
    if room <= cap:
        return room, longest
    chars = max(12, int(cap / per_char) - 2)
    wrapped = [lane_label(n, chars) for n in names]
    widest = max(len(x) for w in wrapped for x in w.split("\n"))
    return min(cap, (widest + 2) * per_char), chars


def _lane_lines(trace, intervals, width, scale) -> int:
    left, chars = _left_in(lanes(trace, intervals), width, scale)
    return sum(lane_label(n, chars).count("\n") + 1 for n in lanes(trace, intervals))


def default_size(trace, intervals=None, width=9.0, scale=1.0, max_height=None):
    """(width, height) in inches: a lane per lock, hooks and errors, room for wrapped lane
    names; every height grows with the font scale. max_height: at most this tall (lanes
    closer together, down to a line and a half of their names)."""
    n = len(lanes(trace, intervals))
    extra = _lane_lines(trace, intervals, width, scale) - n       # wrapped lane names
    h = max(3.0 * scale, (1.45 + 0.3 * n + 0.14 * extra) * scale)
    if max_height is not None and h > max_height:
        least = (1.45 - 0.22 + 0.18 * n + 0.14 * extra) * scale
        h = max(max_height, least)
    return (width, h)


@dataclass
class _Plot:
    """What every part of the picture needs: the axes, the lanes, the sizes, and where each
    event sits on the x axis (its own number, or an aligned row when traces are compared)."""

    fig: object
    ax: object
    trace: object
    intervals: list
    lane_of: dict
    n: int
    W: float
    narrow: bool
    scale: float
    xmap: list | None = None    # event seq -> x (aligned rows); None: x = seq
    plot_w: float = 0.0         # the axes' width in inches
    dy: float = 0.0             # this trace's bars sit dy off the lane's middle (Compare)
    hh: float = 0.28            # half the height of a lock bar
    tag: str = ""               # "A" / "B" when two traces share the lanes
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

    def x(self, seq):
        if self.xmap is None or seq is None:
            return seq
        if seq < 0:
            return -0.5
        return self.xmap[min(seq, len(self.xmap) - 1)]

    @property
    def px_per_event(self):
        return self.plot_w * self.fig.dpi / self.n


def timeline_figure(trace, cursor=None, figsize=None, *, intervals=None, title=None, scale=1.0,
                    xlabel=True):
    """The lock timeline of `trace` as a Figure; `cursor` draws a line at that event.

    intervals: `lock_intervals(trace)`, if the caller already has it (it is recomputed
    otherwise). figsize defaults to (9, 3), taller when there are many lanes or a larger
    scale. scale: font scale (a lecture room wants about 1.7: see render/lecture.py).
    """
    from ._mpl import new_figure, rc
    intervals = lock_intervals(trace) if intervals is None else intervals
    figsize = figsize or default_size(trace, intervals, scale=scale)
    W, H = figsize
    with rc():
        fig = new_figure(figsize)
        nviol = len(trace.violations)
        top_in = (0.3 + (0.22 * min(nviol, 3) if nviol else 0.0) + (0.22 if title else 0.0)) * scale
        bottom_in = (0.78 + (0.2 if W < 8 else 0.0) - (0 if xlabel else 0.22)) * scale
        plot = _axes(fig, trace, intervals, bottom_in, H - top_in - bottom_in, scale,
                     xlabel="event" if xlabel else None)
        _draw_trace(plot)
        if cursor is not None:
            draw_cursor(plot.ax, plot.x(cursor))
        if title:
            plot.fig.text(0.12 / plot.W, 1 - 0.16 * scale / figsize[1], title, ha="left",
                          va="center", fontsize=plot.fs(10), weight="bold")
        _legend(plot, plot.hooks, *plot.marks)
    return plot.fig


def _draw_trace(plot):
    if plot.trace.tasks:
        group_rules(plot, plot.keys)
    _draw_marks(plot)
    _step_labels(plot)


def _draw_marks(plot):
    """One trace's marks on its lanes: runs and waits (a race), holds, hooks, errors and
    violations, in that order (later ones on top)."""
    if plot.trace.tasks:
        draw_runs(plot, plot.runs)
        draw_waits(plot, plot.waits, plot.intervals)
    _lock_bars(plot)
    plot.hooks = _hook_bars(plot)
    plot.marks = _error_marks(plot)
    _violations(plot)


def _axes(fig, trace, intervals, bottom_in, height_in, scale, *, xmap=None, n=None,
          left_in=None, xlabel="event", ticks=True, lane_names=None, keys=None):
    """The axes of one trace's lanes, `height_in` tall from `bottom_in` up (in a race, a
    group of lanes per task: `_lane_keys`). lane_names (and their keys, if not the names):
    given lanes, as when two traces share them."""
    from matplotlib.ticker import MaxNLocator
    if lane_names is None:
        keys, lane_names, intervals, runs, waits = _lane_keys(trace, intervals)
    else:
        keys, runs, waits = (lane_names if keys is None else keys), [], []
    W = fig.get_figwidth()
    H = fig.get_figheight()
    n = max(len(trace.events), 1) if n is None else max(n, 1)
    narrow = W < 8          # slide columns and side-by-side views: smaller type, wrapped legend
    left, chars = _left_in(lane_names, W, scale)
    left = left if left_in is None else left_in
    ax = fig.add_axes([left / W, bottom_in / H, (W - left - 0.2 * scale) / W,
                       max(height_in, 0.3) / H])
    ax.set_gid("mmviz-timeline-axes")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(len(lane_names) - 0.5, -0.5)
    ax.set_yticks(range(len(lane_names)))
    ax.set_yticklabels([lane_label(nm, chars) for nm in lane_names], fontsize=MIN_FONT * scale,
                       linespacing=1.0)
    for lbl, name, key in zip(ax.get_yticklabels(), lane_names, keys):
        if name in (HOOKS_LANE, EVENTS_LANE):
            lbl.set_style("italic")
        if isinstance(key, tuple) and key[1] is None:      # a task's "runs" lane
            lbl.set_weight("bold")
    ax.tick_params(axis="y", length=0)
    if ticks:
        if xlabel:
            ax.set_xlabel(xlabel, fontsize=MIN_FONT * scale, labelpad=2)
        ax.tick_params(axis="x", labelsize=MIN_FONT * scale)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=max(3, int(10 / scale)), integer=True,
                                               min_n_ticks=1))
    else:
        ax.tick_params(axis="x", labelbottom=False)
    for sp in ("top", "right", "left"):
        ax.spines[sp].set_visible(False)
    for y in range(len(lane_names)):
        ax.axhline(y, color="#eeeeee", lw=0.8, zorder=0)
    ax.axhline(len(lane_names) - 2.5, color="#cccccc", lw=0.8, zorder=0)  # locks | hooks+errors
    return _Plot(fig, ax, trace, intervals, {key: i for i, key in enumerate(keys)}, n,
                 W, narrow, scale, xmap=xmap, plot_w=W - left - 0.2 * scale, keys=keys,
                 runs=runs, waits=waits, left=left)


def _lock_bars(plot):
    """A bar per hold: the lock family's colour, white and hatched when held for read."""
    from matplotlib.collections import PolyCollection
    groups, still_held = {}, []
    for iv in plot.intervals:
        y = plot.lane_of[plot.key_of(iv)] + plot.dy
        x0 = plot.x(iv.start) if iv.start >= 0 else -0.5
        x1 = plot.x(iv.end) if iv.end is not None else plot.n - 0.5
        key = (lock_family(iv.lock), iv.mode == "read")
        h = plot.hh
        groups.setdefault(key, []).append([(x0, y - h), (x0, y + h), (x1, y + h), (x1, y - h)])
        if iv.end is None:
            still_held.append((x0, x1, y, iv.mode == "read"))
    for (fam, read), polys in groups.items():
        colour = LOCK_COLOURS[fam]
        pc = PolyCollection(polys, facecolors=colour if not read else "white",
                            edgecolors=colour, hatch=READ_HATCH if read else None,
                            linewidths=1.0, alpha=0.9, zorder=2)
        pc.set_gid(f"mmviz-lock-{fam}{'-read' if read else ''}")
        pc._mmviz_side = plot.tag
        plot.ax.add_collection(pc)
    stuck = plot.trace.result.outcome == "deadlock"
    for x0, x1, y, read in still_held:
        plot.ax.annotate("", xy=(x1 + 0.45, y), xytext=(x1 - 0.6, y), zorder=3,
                         arrowprops=dict(arrowstyle="-|>", color="black", lw=1.2))
        # said on the bar where it fits (a word cut at the plot's edge reads as another word);
        # the arrow past the end and the text alternative say it for every bar
        fits = (x1 - x0) * plot.px_per_event >= 14 * 6.0 * plot.scale + 8
        if stuck and fits:
            plot.ax.text((x0 + x1) / 2, y, "never released", ha="center", va="center",
                         fontsize=plot.fs(MIN_FONT), color="black" if read else "white",
                         weight="bold", zorder=4, bbox=dict(boxstyle="round,pad=0.1", fc="white",
                                                            ec="none", alpha=0.85) if read else None)


def _hook_bars(plot):
    """The hooks lane: a bar while a driver hook runs, a ◆ where it is called, its name."""
    from matplotlib.collections import PolyCollection
    yh = plot.lane_of[HOOKS_LANE] + plot.dy
    hh = 0.22 * plot.hh / 0.28
    hooks = hook_spans(plot.trace)
    hooks = [(name, plot.x(s), plot.x(e) if e is not None else None, ret)
             for name, s, e, ret in hooks]
    polys = []
    for name, s, e, ret in hooks:
        x1 = max(e if e is not None else plot.n - 0.5, s + 0.35)
        x0 = s - 0.35 if e is not None and e <= s + 1 else s
        polys.append([(x0, yh - hh), (x0, yh + hh), (x1, yh + hh), (x1, yh - hh)])
    if not polys:
        return hooks
    pc = PolyCollection(polys, facecolors=HOOK_COLOUR, edgecolors=HOOK_EDGE, linewidths=1.0,
                        zorder=2)
    pc.set_gid("mmviz-hooks")
    pc._mmviz_side = plot.tag
    plot.ax.add_collection(pc)
    plot.ax.scatter([h[1] for h in hooks], [yh] * len(hooks), marker="D", s=22, color=HOOK_EDGE,
                    zorder=3, label="hook call")
    last_right = [-1e9, -1e9]          # name the hooks where there is room, above and below
    if plot.tag:                        # two traces in one lane: each names its own side
        last_right[1 if plot.dy < 0 else 0] = 1e9
    for name, s, e, ret in hooks:
        text = name + (f" → {ret}" if ret and ret not in ("0", "None") else "")
        wev = (len(text) * 5.9 * plot.scale + 6) / plot.px_per_event
        side = 0 if s - wev / 2 > last_right[0] else 1
        if s - wev / 2 <= last_right[side]:
            continue
        last_right[side] = s + wev / 2
        plot.ax.text(s, yh - hh - 0.08 if side == 0 else yh + hh + 0.08, text, ha="center",
                     va="bottom" if side == 0 else "top", fontsize=plot.fs(MIN_FONT),
                     color="#4d3400",
                     zorder=4, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                         alpha=0.75))
    return hooks


def _error_marks(plot):
    ye = plot.lane_of[EVENTS_LANE] + plot.dy
    errs = [e.seq for e in plot.trace.events if e.kind == "error"]
    warns = [e.seq for e in plot.trace.events if e.kind == "warn"]
    for seqs, marker, colour in ((errs, "X", ERROR_COLOUR), (warns, "^", WARN_COLOUR)):
        if seqs:
            plot.ax.scatter([plot.x(q) for q in seqs], [ye] * len(seqs), marker=marker,
                            s=70 * plot.scale ** 2, color=colour, edgecolors="black",
                            linewidths=0.6, zorder=4)
    return errs, warns


def _violations(plot):
    """A red line through every lane, a big red ✖ on the lock's lane, a headline above."""
    trace, ax = plot.trace, plot.ax
    nviol = len(trace.violations)
    for k, v in enumerate(trace.violations):
        y = plot.lock_lane(v.lock, v.seq) + plot.dy
        vx = plot.x(v.seq)
        ax.axvline(vx, color=VIOLATION_COLOUR, lw=2.0, alpha=0.85, zorder=5,
                   linestyle="solid" if plot.dy <= 0 else (0, (4, 2)))
        ax.scatter([vx], [y], marker="X", s=260 * plot.scale ** 2, color=VIOLATION_COLOUR,
                   edgecolors="white", linewidths=1.2, zorder=6)
        if k >= 3:
            continue
        frac = (vx + 0.5) / plot.n
        # Grow the headline toward the wider side so it stays inside the figure.
        ha = ("left" if frac < 0.35 else ("right" if frac > 0.65 else "center")) \
            if not plot.narrow else ("left" if frac < 0.5 else "right")
        ax.annotate((f"{plot.tag}: " if plot.tag else "") + violation_text(v),
                    xy=(vx, -0.5), xycoords="data",
                    xytext=(0, (16 + 15 * (min(nviol, 3) - 1 - k)) * plot.scale),
                    textcoords="offset points",
                    ha=ha, va="bottom", fontsize=plot.fs(9 if not plot.narrow else MIN_FONT),
                    weight="bold", color=VIOLATION_COLOUR, zorder=7, annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", color=VIOLATION_COLOUR, lw=1.5,
                                    relpos={"left": (0, 0), "right": (1, 0)}.get(ha, (0.5, 0))))


def _step_labels(plot):
    """The spec §2.3 step labels along the top, where they do not collide."""
    steps = []
    for e in plot.trace.events:
        x = plot.x(e.seq)
        if e.step and (not steps or (x - steps[-1][0]) * plot.px_per_event
                       >= (len(steps[-1][1]) + 1) * 6.5 * plot.scale):
            steps.append((x, e.step))
    if not steps:
        return
    sec = plot.ax.secondary_xaxis("top")
    sec.set_xticks([s for s, _ in steps])
    sec.set_xticklabels([lbl for _, lbl in steps], fontsize=plot.fs(MIN_FONT), color="#555555")
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
    cols = min(len(swatches), _legend_cols(swatches, plot.W, plot.scale))
    cols = -(-len(swatches) // -(-len(swatches) // cols))   # rows as even as they can be
    renderer = plot.fig.canvas.get_renderer()
    room = plot.fig.get_figwidth() * plot.fig.dpi - 4
    while True:                     # the estimate can be generous: measure, drop a column
        leg = plot.fig.legend(handles=legend_handles(swatches, plot.scale), loc="lower center",
                              ncol=cols, fontsize=plot.fs(MIN_FONT), frameon=False,
                              handlelength=1.8, columnspacing=1.2, bbox_to_anchor=(0.5, 0.0))
        if cols <= 2 or leg.get_window_extent(renderer).width <= room:
            return
        leg.remove()
        cols -= 1


def _legend_cols(swatches, width, scale) -> int:
    """As many legend columns as the labels fit across the width (estimated)."""
    em = MIN_FONT * scale / 72
    for cols in range(min(7, len(swatches)), 1, -1):
        rows = -(-len(swatches) // cols)
        widths = [max(len(x.label) for x in swatches[c * rows:(c + 1) * rows])
                  for c in range(cols) if swatches[c * rows:(c + 1) * rows]]
        if sum(w * 0.58 * em + 4.2 * em for w in widths) <= width - 0.4:
            return cols
    return 2


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
    min_font_px: float = 0.0   # its smallest text, in pixels of the image
    text: str = ""             # the text twin (render.text.lock_timeline_text)

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


def timeline_picture(trace, *, width=9.0, scale=1.0, compact=False, intervals=None,
                     max_height=None):
    """The trace's timeline without a cursor, as PNG, once (views overlay the cursor).
    max_height: fit that many inches (a slide), the axis' "event" label left out."""
    from .text import lock_timeline_text
    intervals = lock_intervals(trace) if intervals is None else intervals
    fig = timeline_figure(trace, None, figsize=default_size(trace, intervals, width, scale,
                                                            max_height),
                          intervals=intervals, scale=scale, xlabel=max_height is None)
    return _picture(fig, compact, timeline_alt(trace, intervals), lock_timeline_text(trace))


def _picture(fig, compact, alt, text, box=None) -> TimelinePicture:
    from ._mpl import compact_png, min_font_px, to_png
    keep_texts_inside(fig)
    dpi = 150 if compact else 100
    png = to_png(fig, dpi=dpi)
    if compact:
        png = compact_png(png)
    box = box or axes_pixel_box(fig)
    if compact:
        box = {k: (v * 1.5 if k not in ("xmin", "xmax") else v) for k, v in box.items()}
    return TimelinePicture(png, box, alt, min_font_px(fig, dpi), text)


# --- two traces on one aligned x axis (Compare) ------------------------------------------------

def row_maps(rows) -> tuple:
    """For aligned rows (mmviz.trace.align), each trace's event seq -> row index."""
    a, b = {}, {}
    for k, r in enumerate(rows):
        if r.a is not None:
            a.setdefault(r.a, k)
        if r.b is not None:
            b.setdefault(r.b, k)
    return _dense(a), _dense(b)


def _dense(m) -> list:
    """seq -> row as a list over every seq (a seq without a row takes the row before)."""
    if not m:
        return []
    out, last = [], 0
    for seq in range(max(m) + 1):
        last = m.get(seq, last)
        out.append(last)
    return out


def compare_timeline_figure(trace_a, trace_b, rows, cursor=None, *, width=9.0, scale=1.0,
                            names=("A", "B"), max_height=None):
    """Both traces' lock timelines in one picture on ONE x axis, the aligned row: each lane
    holds A's bar in its upper half and B's (its outline dashed) in its lower half, so the
    same moment of both runs is at the same x and a hold that differs is seen at once (a
    row where only one run has an event shows nothing for the other). `cursor`: a row."""
    from ._mpl import new_figure, rc
    ka, la, ia, ra, wa = _lane_keys(trace_a, lock_intervals(trace_a))
    kb, lb, ib, rb, wb = _lane_keys(trace_b, lock_intervals(trace_b))
    ma, mb = row_maps(rows)
    n = max(len(rows), 1)
    label = dict(zip(ka, la))
    label.update(zip(kb, lb))
    keys = sorted(set(ka[:-2]) | set(kb[:-2]), key=_shared_lane_order(trace_a, trace_b)) \
        + [HOOKS_LANE, EVENTS_LANE]
    union = [label[k] for k in keys]
    nv = min(len(trace_a.violations), 3) + min(len(trace_b.violations), 3)
    left, chars = _left_in(union, width, scale)
    left += 0.25 * scale                       # room for the A / B tags
    top = ((0.5 if max_height is None else 0.22) + 0.22 * nv) * scale
    bottom = (0.98 if max_height is None else 0.6) * scale
    lines = sum(lane_label(x, chars).count("\n") + 1 for x in union)
    H = top + bottom + (0.46 * len(union) + 0.14 * (lines - len(union))) * scale
    if max_height is not None and H > max_height:
        H = max(max_height, top + bottom + 0.26 * len(union) * scale)
    with rc():
        fig = new_figure((width, H))
        pa = _axes(fig, trace_a, ia, bottom, H - top - bottom, scale, xmap=ma, n=n,
                   left_in=left, lane_names=union, keys=keys,
                   xlabel=("aligned row: the same x is the same moment of both runs"
                           if max_height is None else None))
        pa.runs, pa.waits = ra, wa
        pb = _Plot(fig, pa.ax, trace_b, ib, pa.lane_of, n, width, pa.narrow, scale, mb,
                   pa.plot_w, keys=keys, runs=rb, waits=wb, left=pa.left)
        pa.dy, pa.hh, pa.tag = -0.21, 0.17, names[0]
        pb.dy, pb.hh, pb.tag = 0.21, 0.17, names[1]
        if trace_a.tasks or trace_b.tasks:
            group_rules(pa, keys)
        for plot in (pa, pb):
            _draw_marks(plot)
        _step_labels(pa)
        _dash_b(pa.ax, pb)
        tr = pa.ax.get_yaxis_transform()
        for y in range(len(union)):
            for plot, name in ((pa, names[0]), (pb, names[1])):
                pa.ax.text(-0.012, y + plot.dy, name, transform=tr, ha="right", va="center",
                           fontsize=plot.fs(MIN_FONT), weight="bold", color="#333333")
        pa.ax.tick_params(axis="y", pad=14 * scale)
        if cursor is not None:
            draw_cursor(pa.ax, cursor)
        merged = _Plot(fig, pa.ax, trace_a, ia + ib, pa.lane_of, n, width, width < 8, scale,
                       runs=ra + rb, waits=wa + wb)
        merged.trace = _Both(trace_a, trace_b)
        _legend(merged, pa.hooks + pb.hooks, pa.marks[0] + pb.marks[0],
                pa.marks[1] + pb.marks[1])
        if max_height is None:           # (a page with little room says it in words)
            fig.text(0.5, 1 - 0.06 * scale / H, compare_key(trace_a, trace_b, names),
                     ha="center", va="top", fontsize=MIN_FONT * scale, color="#333333")
    fig._mmviz_axes = (pa.ax, pa.ax)
    return fig


def _shared_lane_order(trace_a, trace_b):
    """Sort key of the lanes two traces share: locks in lock order; in a race each task's
    group (in the order the traces list the tasks), its "runs" lane first."""
    pids = [pid for t in (trace_a, trace_b) for pid, _c, _g in t.tasks]

    def key(k):
        if isinstance(k, tuple):
            pid, lock = k
            return (1, pids.index(pid) if pid in pids else len(pids), lock is not None,
                    lock_order_key(lock) if lock else ())
        return (0, 0, False, lock_order_key(k))
    return key


def compare_key(trace_a, trace_b, names=("A", "B")) -> str:
    return (f"{names[0]} = {trace_a.kernel}: the upper half of each lane, solid · "
            f"{names[1]} = {trace_b.kernel}: the lower half, dashed")


def _dash_b(ax, pb):
    """B's lock and hook bars get a dashed outline (A's are solid): not colour alone."""
    for c in ax.collections:
        if getattr(c, "_mmviz_side", None) == pb.tag:
            c.set_linestyle((0, (3, 2)))
            c.set_edgecolor("#000000")


class _Both:
    """Two traces, as much as the legend asks of one (its violations)."""

    def __init__(self, a, b):
        self.violations = tuple(a.violations) + tuple(b.violations)


def compare_timeline_picture(trace_a, trace_b, rows, *, width=9.0, scale=1.0,
                             compact=False, names=("A", "B"),
                             max_height=None) -> TimelinePicture:
    """`compare_timeline_figure` drawn once, without a cursor (views overlay it, per row)."""
    fig = compare_timeline_figure(trace_a, trace_b, rows, width=width, scale=scale,
                                  names=names, max_height=max_height)
    box = axes_pixel_box(fig, fig._mmviz_axes[0])
    ia, ib = lock_intervals(trace_a), lock_intervals(trace_b)
    alt = (f"{names[0]} ({trace_a.kernel}): " + timeline_alt(trace_a, ia) + f". {names[1]} ("
           f"{trace_b.kernel}): " + timeline_alt(trace_b, ib) + ". x is the aligned row.")
    from .text import lock_timeline_text
    text = (f"{names[0]} ({trace_a.kernel}):\n" + lock_timeline_text(trace_a) + f"\n\n{names[1]} "
            f"({trace_b.kernel}):\n" + lock_timeline_text(trace_b))
    return _picture(fig, compact, alt, text, box)


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
