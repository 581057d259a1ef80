"""The lock timeline: which locks are held at every event of a trace.

One lane per lock (`mmap_lock`, each file's `i_mmap_rwsem(...)`, each anon_vma's rwsem, the
per-VMA `vma_lock(vma#N)`), a lane of driver hooks reached through function pointers, and a
lane of errors and warnings; x is the event number. A lockdep violation (a deadlock, an
unlock of a lock not held) gets a big red cross on its lock's lane, a red line through
every lane and a sentence in red above the plot: it cannot be missed.

`lock_intervals(trace)` is the data the picture is drawn from; it walks the trace once, so
callers that redraw (a widget moving a cursor) compute it once and pass it back in.
"""

from __future__ import annotations

from ..trace.query import (LockInterval, hook_spans, lock_family, lock_intervals,  # noqa: F401
                           lock_order_key)

LOCK_COLOURS = {          # Okabe–Ito; the same meaning as in the layout picture
    "mmap_lock": "#5f5f5f",
    "i_mmap_rwsem": "#009E73",     # green: the rmap lock ("hidden from rmap" in the layout)
    "vma_lock": "#0072B2",         # blue: a VMA's write lock (its blue outline in the layout)
    "anon_vma": "#CC79A7",
    "other": "#8C8C8C",
}
HOOK_COLOUR = "#E69F00"
ERROR_COLOUR = "#D55E00"
WARN_COLOUR = "#E69F00"
VIOLATION_COLOUR = "#D00000"       # the one pure red in mmviz: reserved for violations

HOOKS_LANE = "hooks (via pointer)"
EVENTS_LANE = "errors · warnings"

VIOLATION_TITLES = {
    "unlock-not-held": "DOUBLE UNLOCK",
    "deadlock": "DEADLOCK",
    "recursive-lock": "RECURSIVE LOCK",
    "held-on-return": "LOCK HELD ON RETURN",
    "assert": "LOCK ASSERTION FAILED",
}


def _lane_key(name):
    return lock_order_key(name)


def lanes(trace, intervals=None) -> list:
    """Lane names, top to bottom: the locks (in lock order), then hooks, then errors."""
    intervals = lock_intervals(trace) if intervals is None else intervals
    names = {iv.lock for iv in intervals} | {v.lock for v in trace.violations if v.lock}
    return sorted(names, key=_lane_key) + [HOOKS_LANE, EVENTS_LANE]


def violation_text(v) -> str:
    title = VIOLATION_TITLES.get(v.kind, v.kind.upper())
    return f"{title} at event {v.seq}: {v.lock}"


def timeline_figure(trace, cursor=None, figsize=None, *, intervals=None, title=None):
    """The lock timeline of `trace` as a Figure; `cursor` draws a line at that event.

    intervals: `lock_intervals(trace)`, if the caller already has it (it is recomputed
    otherwise). figsize defaults to (9, 3), taller when there are many lanes.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ._mpl import new_figure, rc

    intervals = lock_intervals(trace) if intervals is None else intervals
    lane_names = lanes(trace, intervals)
    nlanes = len(lane_names)
    if figsize is None:
        figsize = (9, max(3.0, 1.45 + 0.3 * nlanes))
    n = max(len(trace.events), 1)
    W, H = figsize
    nviol = len(trace.violations)
    narrow = W < 8          # slide columns and side-by-side views: smaller type, wrapped legend
    legend_cols = 7 if not narrow else max(2, int((W - 0.4) / 1.35))
    with rc():
        fig = new_figure(figsize)
        top_in = 0.3 + (0.22 * min(nviol, 3) if nviol else 0.0) + (0.22 if title else 0.0)
        left_in = 1.85
        bottom_in = 0.78 + (0.2 if narrow else 0.0)
        ax = fig.add_axes([left_in / W, bottom_in / H, (W - left_in - 0.2) / W,
                           (H - top_in - bottom_in) / H])
        ax.set_gid("mmviz-timeline-axes")
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(nlanes - 0.5, -0.5)
        ax.set_yticks(range(nlanes))
        ax.set_yticklabels(lane_names, fontsize=8)
        for lbl, name in zip(ax.get_yticklabels(), lane_names):
            if name in (HOOKS_LANE, EVENTS_LANE):
                lbl.set_style("italic")
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("event", fontsize=8, labelpad=2)
        ax.tick_params(axis="x", labelsize=8)
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True, min_n_ticks=1))
        for s in ("top", "right", "left"):
            ax.spines[s].set_visible(False)
        for y in range(nlanes):
            ax.axhline(y, color="#eeeeee", lw=0.8, zorder=0)
        ax.axhline(nlanes - 2.5, color="#cccccc", lw=0.8, zorder=0)  # locks | hooks+errors

        # lock holds
        lane_of = {name: i for i, name in enumerate(lane_names)}
        groups = {}
        still_held = []
        for iv in intervals:
            y = lane_of[iv.lock]
            x0 = iv.start if iv.start >= 0 else -0.5
            x1 = iv.end if iv.end is not None else n - 0.5
            key = (lock_family(iv.lock), iv.mode == "read")
            groups.setdefault(key, []).append([(x0, y - 0.28), (x0, y + 0.28), (x1, y + 0.28), (x1, y - 0.28)])
            if iv.end is None:
                still_held.append((x0, x1, y))
        for (fam, read), polys in groups.items():
            colour = LOCK_COLOURS[fam]
            pc = PolyCollection(polys, facecolors=colour if not read else "white",
                                edgecolors=colour, hatch="////" if read else None,
                                linewidths=1.0, alpha=0.9, zorder=2)
            pc.set_gid(f"mmviz-lock-{fam}{'-read' if read else ''}")
            ax.add_collection(pc)
        stuck = trace.result.outcome == "deadlock"
        for x0, x1, y in still_held:
            ax.annotate("", xy=(x1 + 0.45, y), xytext=(x1 - 0.6, y), zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color="black", lw=1.2))
            if stuck:
                ax.text((x0 + x1) / 2, y, "never released", ha="center", va="center", fontsize=7,
                        color="white", weight="bold", zorder=4)

        # hooks
        yh = lane_of[HOOKS_LANE]
        hooks = hook_spans(trace)
        hpolys = []
        for name, s, e, ret in hooks:
            x1 = e if e is not None else n - 0.5
            x0 = s - 0.35 if e == s + 1 else s
            hpolys.append([(x0, yh - 0.22), (x0, yh + 0.22), (max(x1, s + 0.35), yh + 0.22), (max(x1, s + 0.35), yh - 0.22)])
        if hpolys:
            pc = PolyCollection(hpolys, facecolors=HOOK_COLOUR, edgecolors="#7a5200", linewidths=1.0,
                                zorder=2)
            pc.set_gid("mmviz-hooks")
            ax.add_collection(pc)
            ax.scatter([h[1] for h in hooks], [yh] * len(hooks), marker="D", s=22,
                       color="#7a5200", zorder=3, label="hook call")
            # name the hooks where there is room, alternating above and below the bar
            px_per_event = (W - left_in - 0.2) * fig.dpi / n
            last_right = [-1e9, -1e9]
            for k, (name, s, e, ret) in enumerate(hooks):
                text = name + (f" → {ret}" if ret and ret not in ("0", "None") else "")
                wev = (len(text) * 5.2 + 6) / px_per_event
                side = 0 if s - wev / 2 > last_right[0] else 1
                if s - wev / 2 <= last_right[side]:
                    continue
                last_right[side] = s + wev / 2
                ax.text(s, yh - 0.3 if side == 0 else yh + 0.3, text, ha="center",
                        va="bottom" if side == 0 else "top", fontsize=7, color="#4d3400", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.75))

        # errors and warnings
        ye = lane_of[EVENTS_LANE]
        errs = [e.seq for e in trace.events if e.kind == "error"]
        warns = [e.seq for e in trace.events if e.kind == "warn"]
        if errs:
            ax.scatter(errs, [ye] * len(errs), marker="X", s=70, color=ERROR_COLOUR,
                       edgecolors="black", linewidths=0.6, zorder=4)
        if warns:
            ax.scatter(warns, [ye] * len(warns), marker="^", s=70, color=WARN_COLOUR,
                       edgecolors="black", linewidths=0.6, zorder=4)

        # violations: unmistakable
        for k, v in enumerate(trace.violations):
            y = lane_of.get(v.lock, ye)
            ax.axvline(v.seq, color=VIOLATION_COLOUR, lw=2.0, alpha=0.85, zorder=5)
            ax.scatter([v.seq], [y], marker="X", s=260, color=VIOLATION_COLOUR,
                       edgecolors="white", linewidths=1.2, zorder=6)
            if k < 3:
                frac = (v.seq + 0.5) / n
                # Grow the headline toward the wider side so it stays inside the figure.
                ha = ("left" if frac < 0.35 else ("right" if frac > 0.65 else "center")) \
                    if not narrow else ("left" if frac < 0.5 else "right")
                ax.annotate(violation_text(v), xy=(v.seq, -0.5), xycoords="data",
                            xytext=(0, 16 + 15 * (min(nviol, 3) - 1 - k)),
                            textcoords="offset points", ha=ha, va="bottom",
                            fontsize=9 if not narrow else 7.5, weight="bold",
                            color=VIOLATION_COLOUR, zorder=7, annotation_clip=False,
                            arrowprops=dict(arrowstyle="-", color=VIOLATION_COLOUR, lw=1.5,
                                            relpos={"left": (0, 0), "right": (1, 0)}.get(ha, (0.5, 0))))

        # spec §2.3 step labels along the top
        steps = []
        px_per_event = (W - left_in - 0.2) * fig.dpi / n
        for e in trace.events:
            if e.step and (not steps or (e.seq - steps[-1][0]) * px_per_event >= 20):
                steps.append((e.seq, e.step))
        if steps:
            sec = ax.secondary_xaxis("top")
            sec.set_xticks([s for s, _ in steps])
            sec.set_xticklabels([lbl for _, lbl in steps], fontsize=7, color="#555555")
            sec.tick_params(axis="x", length=3, pad=1)
            sec.spines["top"].set_visible(False)

        if cursor is not None:
            ax.axvline(cursor, color="black", lw=1.6, zorder=8)
            ax.scatter([cursor], [-0.5], marker="v", s=60, color="black", zorder=9, clip_on=False)

        if title:
            fig.text(0.12 / W, 1 - 0.16 / H, title, ha="left", va="center", fontsize=10,
                     weight="bold")

        handles = [Patch(facecolor=LOCK_COLOURS[f], edgecolor=LOCK_COLOURS[f], label=lbl)
                   for f, lbl in (("mmap_lock", "mmap_lock"), ("i_mmap_rwsem", "i_mmap_rwsem"),
                                  ("vma_lock", "VMA write lock"), ("anon_vma", "anon_vma lock"))
                   if any(lock_family(iv.lock) == f for iv in intervals)]
        if any(iv.mode == "read" for iv in intervals):
            handles.append(Patch(facecolor="white", edgecolor="#5f5f5f", hatch="////", label="held for read"))
        if hooks:
            handles.append(Patch(facecolor=HOOK_COLOUR, edgecolor="#7a5200", label="hook running"))
        if errs:
            handles.append(Line2D([], [], marker="X", ls="none", color=ERROR_COLOUR,
                                  markeredgecolor="black", markersize=8, label="error"))
        if warns:
            handles.append(Line2D([], [], marker="^", ls="none", color=WARN_COLOUR,
                                  markeredgecolor="black", markersize=8, label="warning"))
        if trace.violations:
            handles.append(Line2D([], [], marker="X", ls="none", color=VIOLATION_COLOUR,
                                  markersize=11, label="lock violation"))
        if handles:
            fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), legend_cols),
                       fontsize=8 if not narrow else 7,
                       frameon=False, handlelength=1.8, columnspacing=1.2,
                       bbox_to_anchor=(0.5, 0.0))
    return fig


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


def timeline_png(trace, cursor=None, **kw) -> bytes:
    from ._mpl import to_png
    return to_png(timeline_figure(trace, cursor, **kw))


def timeline_svg(trace, cursor=None, **kw) -> str:
    from ._mpl import to_svg
    return to_svg(timeline_figure(trace, cursor, **kw))
