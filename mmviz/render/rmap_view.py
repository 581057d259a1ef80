"""The rmap view: which VMAs of which processes an rmap walk from one page visits.

Input: an `RmapWalk` (mmviz.model.rmap_walk: plain frozen data) and, optionally, the VMA
views of every process (a trace `Snapshot`, or `(pid, views)` pairs) for context. Output:
a matplotlib Figure (Agg, no pyplot), PNG, SVG or text. Pure functions.

Top: one lane per process, on one address axis around the visited VMAs. Every state is a
colour *and* a hatch or outline (Okabe–Ito colours), named in the legend:

    visited, maps the page        bluish green, "xx" hatch, thick outline, ★ at the page
    visited, page not mapped      sky blue, "//" hatch, ○ at where the page would be
    not visited (context)         light grey, dashed outline
    the page asked about          vermillion ▼ above it

Bottom: for an anonymous page, the anon_vma tree of its fork (root first; the page's
anon_vma in orange with a "\\\\" hatch; each node lists its counters and the VMAs linked to
it); for a file page, the i_mmap order the walk followed.
"""

from __future__ import annotations

from ._mpl import new_figure, rc, to_png, to_svg

PAGE = 4096

# Okabe & Ito (2008) colours, kept here so this view does not depend on a shared palette.
GREEN = "#009E73"
SKY = "#56B4E9"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
BLUE = "#0072B2"
GREY = "#D9D9D9"
DARK = "#333333"

STYLES = {
    "mapped": dict(face=GREEN, edge=DARK, hatch="xx", lw=2.0, ls="-",
                   label="visited: maps the page (★)"),
    "visited": dict(face=SKY, edge=BLUE, hatch="//", lw=1.4, ls="-",
                    label="visited: the page is not mapped here (○)"),
    "context": dict(face=GREY, edge="#8C8C8C", hatch="", lw=0.8, ls=(0, (3, 2)),
                    label="not visited"),
}


def _spaces(snapshot):
    """{pid: [views]} from a Snapshot or (pid, views) pairs (or nothing)."""
    if snapshot is None:
        return {}
    pairs = snapshot.spaces if hasattr(snapshot, "spaces") else snapshot
    return {pid: list(views) for pid, views in pairs}


def _span(walk, spaces):
    starts = [v.start for v in walk.visits] + [walk.addr]
    ends = [v.end for v in walk.visits] + [walk.addr + PAGE]
    lo, hi = min(starts), max(ends)
    pad = max(PAGE, (hi - lo) // 10)
    return lo - pad, hi + pad


def rmap_walk_text(walk) -> str:
    """The walk as lines of text (the reference rendering)."""
    head = {
        "anon": (f"anonymous page at {walk.addr:#x} in process {walk.pid}: anon_vma#"
                 f"{walk.anon_vma}, index {walk.index:#x}; rmap_walk_anon visits:"),
        "file": (f"page {walk.index:#x} of {walk.file} (at {walk.addr:#x} in process "
                 f"{walk.pid}); rmap_walk_file visits:"),
        "none": f"no page at {walk.addr:#x} in process {walk.pid}: {walk.reason}",
    }[walk.kind]
    lines = [head]
    for v in walk.visits:
        lines.append(f"  process {v.pid} vma#{v.vma} [{v.start:#x},{v.end:#x}) {v.perms} "
                     f"at {v.address:#x}: {'maps it' if v.mapped else 'not mapped'}"
                     + (f" (via anon_vma#{v.via})" if v.via is not None else ""))
    for n in walk.tree:
        parent = "root" if n.parent is None else f"parent anon_vma#{n.parent}"
        links = ", ".join(f"{pid}:vma#{vid}" for pid, vid in n.vmas) or "none"
        lines.append(f"  anon_vma#{n.id} ({parent}): num_children={n.num_children} "
                     f"num_active_vmas={n.num_active_vmas}; linked: {links}")
    return "\n".join(lines) + "\n"


def _state(visit):
    return "mapped" if visit.mapped else "visited"


def _draw_lanes(ax, walk, spaces):
    lo, hi = _span(walk, spaces)
    pids = sorted({v.pid for v in walk.visits} | {walk.pid} | set(spaces))
    pids = [p for p in pids if p == walk.pid or any(v.pid == p for v in walk.visits)
            or any(x.end > lo and x.start < hi for x in spaces.get(p, ()))]
    visited = {(v.pid, v.vma): v for v in walk.visits}
    scale = 1.0 / PAGE
    for row, pid in enumerate(pids):
        y = len(pids) - 1 - row
        ax.text(lo * scale - 0.3, y + 0.4, f"process {pid}", ha="right", va="center",
                fontsize=9, fontweight="bold" if pid == walk.pid else "normal")
        ax.plot([lo * scale, hi * scale], [y + 0.4, y + 0.4], color="#BBBBBB", lw=0.6,
                zorder=0)
        boxes = {}
        for x in spaces.get(pid, ()):
            if x.end > lo and x.start < hi:
                boxes[x.id] = (x.start, x.end, x.perms)
        for v in walk.visits:
            if v.pid == pid:
                boxes[v.vma] = (v.start, v.end, v.perms)
        for vid, (s, e, perms) in sorted(boxes.items(), key=lambda kv: kv[1][0]):
            visit = visited.get((pid, vid))
            st = STYLES[_state(visit) if visit else "context"]
            s0, e0 = max(s, lo), min(e, hi)
            ax.add_patch(_rect((s0 * scale, y + 0.1), (e0 - s0) * scale, 0.6, st))
            ax.text((s0 + e0) / 2 * scale, y + 0.4, f"vma#{vid}\n{perms}", ha="center",
                    va="center", fontsize=7.5, color="black",
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.8))
            if visit is not None:
                ax.plot([(visit.address + PAGE / 2) * scale], [y + 0.78],
                        marker="*" if visit.mapped else "o", markersize=11,
                        markerfacecolor=DARK if visit.mapped else "white",
                        markeredgecolor=DARK, zorder=5, linestyle="none")
        if pid == walk.pid:
            ax.plot([(walk.addr + PAGE / 2) * scale], [y + 1.12], marker="v", markersize=10,
                    color=VERMILLION, zorder=6, linestyle="none")
    ax.set_xlim(lo * scale - 0.2, hi * scale + 0.2)
    ax.set_ylim(-0.2, len(pids) + 0.4)
    ticks = [lo + i * (hi - lo) // 4 for i in range(5)]
    ax.set_xticks([t * scale for t in ticks])
    ax.set_xticklabels([f"{t & ~(PAGE - 1):#x}" for t in ticks], fontsize=7)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _rect(xy, w, h, st):
    from matplotlib.patches import Rectangle
    return Rectangle(xy, w, h, facecolor=st["face"], edgecolor=st["edge"], hatch=st["hatch"],
                     linewidth=st["lw"], linestyle=st["ls"], zorder=2)


def _draw_tree(ax, walk):
    nodes = {n.id: n for n in walk.tree}
    depth = {}

    def d(n):
        if n.id not in depth:
            depth[n.id] = 0 if n.parent is None or n.parent not in nodes else d(nodes[n.parent]) + 1
        return depth[n.id]
    for n in walk.tree:
        d(n)
    rows = {}
    for n in sorted(walk.tree, key=lambda n: (depth[n.id], n.id)):
        rows.setdefault(depth[n.id], []).append(n)
    pos = {}
    for lvl, ns in rows.items():
        for i, n in enumerate(ns):
            pos[n.id] = (lvl * 4.0, -(i * 1.5))
    for n in walk.tree:
        if n.parent is not None and n.parent in pos:
            (x0, y0), (x1, y1) = pos[n.parent], pos[n.id]
            ax.annotate("", xy=(x1, y1 + 0.35), xytext=(x0 + 3.2, y0 + 0.35),
                        arrowprops=dict(arrowstyle="->", color=DARK, lw=1.0))
    for n in walk.tree:
        x, y = pos[n.id]
        mine = n.id == walk.anon_vma
        st = dict(face=ORANGE if mine else "white", edge=DARK, hatch="\\\\" if mine else "",
                  lw=2.0 if mine else 1.0, ls="-")
        ax.add_patch(_rect((x, y), 3.2, 0.7, st))
        links = ", ".join(f"{pid}:vma#{vid}" for pid, vid in n.vmas) or "none"
        ax.text(x + 1.6, y + 0.35,
                f"anon_vma#{n.id}{' (root)' if n.parent is None else ''}\n"
                f"children {n.num_children}, active VMAs {n.num_active_vmas}\nlinks: {links}",
                ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 0.3, max(xs) + 3.5)
    ax.set_ylim(min(ys) - 0.4, max(ys) + 1.0)
    ax.set_axis_off()
    ax.set_title("the page's anon_vma tree (orange: the page's anon_vma; each link is an "
                 "anon_vma_chain)", fontsize=8, loc="left")


def _draw_file_order(ax, walk):
    ax.set_axis_off()
    order = " → ".join(f"process {v.pid} vma#{v.vma}" for v in walk.visits) or "nothing"
    ax.text(0, 0.5, f"i_mmap of {walk.file}, in the order rmap_walk_file visits it "
            f"(a fork child right after its parent):\n{order}", fontsize=8, va="center")


def rmap_walk_figure(walk, snapshot=None):
    """The picture of one rmap walk (see the module docstring)."""
    spaces = _spaces(snapshot)
    with rc():
        extra = 1.6 if walk.kind == "anon" and walk.tree else 0.8
        lanes = max(1, len({v.pid for v in walk.visits} | {walk.pid}))
        fig = new_figure((9.5, 1.4 + 0.8 * lanes + extra))
        if walk.kind == "none":
            ax = fig.add_subplot(1, 1, 1)
            ax.set_axis_off()
            ax.text(0.5, 0.5, rmap_walk_text(walk).strip(), ha="center", va="center",
                    fontsize=9, wrap=True)
            return fig
        gs = fig.add_gridspec(2, 1, height_ratios=[0.8 * lanes + 0.6, extra])
        ax = fig.add_subplot(gs[0])
        _draw_lanes(ax, walk, spaces)
        title = (f"rmap_walk_anon from the page at {walk.addr:#x} (process {walk.pid}): "
                 f"anon_vma#{walk.anon_vma}, index {walk.index:#x}" if walk.kind == "anon" else
                 f"rmap_walk_file from page {walk.index:#x} of {walk.file} (process "
                 f"{walk.pid}, {walk.addr:#x})")
        mapped = sum(v.mapped for v in walk.visits)
        ax.set_title(f"{title}\n{len(walk.visits)} VMAs visited, {mapped} map the page",
                     fontsize=9, loc="left")
        from matplotlib.lines import Line2D
        handles = [_rect((0, 0), 1, 1, STYLES[k]) for k in ("mapped", "visited", "context")]
        labels = [STYLES[k]["label"] for k in ("mapped", "visited", "context")]
        handles.append(Line2D([], [], marker="v", color=VERMILLION, linestyle="none",
                              markersize=8))
        labels.append("the page asked about")
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
                  frameon=False)
        tree_ax = fig.add_subplot(gs[1])
        if walk.kind == "anon":
            _draw_tree(tree_ax, walk)
        else:
            _draw_file_order(tree_ax, walk)
        fig.subplots_adjust(left=0.13, right=0.72, top=0.86, bottom=0.06, hspace=0.45)
        return fig


def rmap_walk_png(walk, snapshot=None) -> bytes:
    return to_png(rmap_walk_figure(walk, snapshot))


def rmap_walk_svg(walk, snapshot=None) -> str:
    return to_svg(rmap_walk_figure(walk, snapshot))
