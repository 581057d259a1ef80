"""The rmap view: which VMAs of which processes an rmap walk from one page visits.

Input: an `RmapWalk` (mmviz.model.rmap_walk: plain frozen data) and, optionally, the VMA
views of every process (a trace `Snapshot`, or `(pid, views)` pairs) for context. Output:
a matplotlib Figure (Agg, no pyplot), PNG, SVG or text. Pure functions.

Top: one lane per process, on one address axis around the visited VMAs. Every state is a
colour *and* a hatch or outline (Okabe–Ito colours), named in the legend:

    visited, maps the page        bluish green, "xx" hatch, thick outline, ★ at the page
    visited, page not mapped      sky blue, "//" hatch, ○ at where the page would be
    not visited (context)         light grey, dashed outline
    the page asked about          vermillion ▲ under it

Bottom: for an anonymous page, the anon_vma tree of its fork (root first; the page's
anon_vma in orange with a "\\\\" hatch; each node lists its counters and the VMAs linked to
it); for a file page, the i_mmap order the walk followed.
"""

from __future__ import annotations

from ..model.uapi import PAGE_SIZE as PAGE
from ._mpl import new_figure, rc, to_png, to_svg
from .palette import DARK, RMAP_OWN_ANON_VMA as ORANGE, RMAP_PAGE_MARK as VERMILLION
from .palette import RMAP_VISIT_STYLES as STYLES


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


def _lane_pids(walk, spaces, lo, hi):
    pids = sorted({v.pid for v in walk.visits} | {walk.pid} | set(spaces))
    return [p for p in pids if p == walk.pid or any(v.pid == p for v in walk.visits)
            or any(x.end > lo and x.start < hi for x in spaces.get(p, ()))]


def _draw_lanes(ax, walk, spaces, k):
    """One lane per process; k: the font scale."""
    lo, hi = _span(walk, spaces)
    pids = _lane_pids(walk, spaces, lo, hi)
    visited = {(v.pid, v.vma): v for v in walk.visits}
    scale = 1.0 / PAGE
    for row, pid in enumerate(pids):
        y = len(pids) - 1 - row
        ax.text(lo * scale - 0.3, y + 0.4, f"process {pid}", ha="right", va="center",
                fontsize=9 * k, fontweight="bold" if pid == walk.pid else "normal")
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
                    va="center", fontsize=8 * k, color="black", linespacing=1.0,
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.8))
            if visit is not None:
                ax.plot([(visit.address + PAGE / 2) * scale], [y + 0.78],
                        marker="*" if visit.mapped else "o", markersize=11 * k,
                        markerfacecolor=DARK if visit.mapped else "white",
                        markeredgecolor=DARK, zorder=5, linestyle="none")
        if pid == walk.pid:
            ax.plot([(walk.addr + PAGE / 2) * scale], [y - 0.04], marker="^",
                    markersize=10 * k, color=VERMILLION, zorder=6, linestyle="none")
    ax.set_xlim(lo * scale - 0.2, hi * scale + 0.2)
    ax.set_ylim(-0.25, len(pids) + 0.05)
    ticks = [lo + i * (hi - lo) // 4 for i in range(5)]
    ax.set_xticks([t * scale for t in ticks])
    ax.set_xticklabels([f"{t & ~(PAGE - 1):#x}" for t in ticks], fontsize=8 * k)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _rect(xy, w, h, st):
    from matplotlib.patches import Rectangle
    return Rectangle(xy, w, h, facecolor=st["face"], edgecolor=st["edge"], hatch=st["hatch"],
                     linewidth=st["lw"], linestyle=st["ls"], zorder=2)


_CHAR_IN = 0.6 / 72        # a character of DejaVu Sans is about 0.6 em wide
_LINE_IN = 1.3 / 72        # a line is about 1.3 em high


def _node_text(n) -> str:
    """An anon_vma's box: its name, its counters, the VMAs linked to it, wrapped."""
    head = f"anon_vma#{n.id}{' (root)' if n.parent is None else ''}"
    lines, line = [head, f"children {n.num_children}, active VMAs {n.num_active_vmas}"], "links:"
    for pid, vid in n.vmas or ():
        item = f" {pid}:vma#{vid}"
        if len(line) + len(item) > 24:
            lines.append(line.rstrip(","))
            line = "      "
        line += item + ","
    lines.append(line.rstrip(",") if n.vmas else "links: none")
    return "\n".join(lines)


def _tree_layout(walk, fs):
    """{node id: (x, y, w, h)} in inches (y down from the top), and the size it needs: each
    generation of the fork a column, siblings one under the other."""
    nodes = {n.id: n for n in walk.tree}
    depth = {}

    def d(n):
        if n.id not in depth:
            depth[n.id] = 0 if n.parent is None or n.parent not in nodes else d(nodes[n.parent]) + 1
        return depth[n.id]
    for n in walk.tree:
        d(n)
    size = {}
    for n in walk.tree:
        lines = _node_text(n).split("\n")
        size[n.id] = (max(map(len, lines)) * _CHAR_IN * fs + 0.25,
                      len(lines) * _LINE_IN * fs + 0.16)
    cols = {}
    for n in sorted(walk.tree, key=lambda n: (depth[n.id], n.id)):
        cols.setdefault(depth[n.id], []).append(n)
    gap = 0.45 * fs / 8
    pos, x = {}, 0.0
    for lvl in sorted(cols):
        w = max(size[n.id][0] for n in cols[lvl])
        y = 0.0
        for n in cols[lvl]:
            pos[n.id] = (x, y, w, size[n.id][1])
            y += size[n.id][1] + gap * 0.6
        x += w + gap
    width = max((p[0] + p[2] for p in pos.values()), default=0.0)
    height = max((p[1] + p[3] for p in pos.values()), default=0.0)
    return pos, width, height


def _draw_tree(ax, walk, pos, fs, box_w, box_h):
    """The anon_vma tree, in inch coordinates of an axes box_w x box_h inches."""
    ax.set_xlim(-0.05, box_w - 0.05)          # room for the outlines at the edges
    ax.set_ylim(-box_h - 0.05, 0.05)
    for n in walk.tree:
        if n.parent is not None and n.parent in pos:
            x0, y0, w0, h0 = pos[n.parent]
            x1, y1, _w1, h1 = pos[n.id]
            ax.annotate("", xy=(x1, -(y1 + h1 / 2)), xytext=(x0 + w0, -(y0 + h0 / 2)),
                        arrowprops=dict(arrowstyle="->", color=DARK, lw=1.0))
    for n in walk.tree:
        x, y, w, h = pos[n.id]
        mine = n.id == walk.anon_vma
        st = dict(face=ORANGE if mine else "white", edge=DARK, hatch="\\\\" if mine else "",
                  lw=2.0 if mine else 1.0, ls="-")
        ax.add_patch(_rect((x, -(y + h)), w, h, st))
        ax.text(x + w / 2, -(y + h / 2), _node_text(n), ha="center", va="center", fontsize=fs,
                linespacing=1.1, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                           alpha=0.85))
    ax.set_axis_off()


def rmap_walk_figure(walk, snapshot=None, *, scale: float = 1.0, width: float = 9.5,
                     parts=("lanes", "tree")):
    """The picture of one rmap walk (see the module docstring). scale: the font scale (a
    lecture room wants mmviz.render.stepper_html.LECTURE_SCALE); parts: the lanes, the tree
    (the anon_vma tree or the file's i_mmap order), or both."""
    spaces = _spaces(snapshot)
    k = scale
    fs = 8 * k
    with rc():
        if walk.kind == "none":
            fig = new_figure((width, 1.2 * k))
            ax = fig.add_subplot(1, 1, 1)
            ax.set_axis_off()
            ax.text(0.5, 0.5, rmap_walk_text(walk).strip(), ha="center", va="center",
                    fontsize=9 * k, wrap=True)
            return fig
        lo, hi = _span(walk, spaces)
        n_lanes = len(_lane_pids(walk, spaces, lo, hi))
        lane_in = max(0.55, 2 * _LINE_IN * fs + 0.3)
        title_in = 2 * _LINE_IN * 9 * k + 0.15
        lanes_in = n_lanes * lane_in + 0.2 * k             # the lanes, the ★/○ above them
        legend_in = 2 * _LINE_IN * fs + 0.35 * k + 0.2     # tick labels, two legend rows
        if walk.kind == "anon":
            pos, tree_w, tree_h = _tree_layout(walk, fs)
            tree_title = ("the page's anon_vma tree (orange: the page's anon_vma; each link "
                          "is an anon_vma_chain)")
        else:
            pos, tree_w, tree_h = {}, 0.0, 2 * _LINE_IN * fs + 0.1
            tree_title = f"i_mmap of {walk.file}, in the order rmap_walk_file visits it"
        tree_block = tree_h + _LINE_IN * fs + 0.2
        show_lanes, show_tree = "lanes" in parts, "tree" in parts
        H = 0.15 + (title_in + lanes_in + legend_in if show_lanes else 0) \
            + (tree_block + 0.15 if show_tree else 0)
        fig = new_figure((width, H))
        left_in = (len(f"process {max(spaces or [walk.pid], default=walk.pid)}") + 2) \
            * _CHAR_IN * 9 * k + 0.3
        top = H - 0.15
        if show_lanes:
            top -= title_in
            right_in = 5.5 * _CHAR_IN * fs + 0.1           # half the last tick's label
            ax = fig.add_axes([left_in / width, (top - lanes_in) / H,
                               (width - left_in - right_in) / width, lanes_in / H])
            _draw_lanes(ax, walk, spaces, k)
            title = (f"rmap_walk_anon from the page at {walk.addr:#x} (process {walk.pid}): "
                     f"anon_vma#{walk.anon_vma}, index {walk.index:#x}" if walk.kind == "anon"
                     else f"rmap_walk_file from page {walk.index:#x} of {walk.file} (process "
                     f"{walk.pid}, {walk.addr:#x})")
            mapped = sum(v.mapped for v in walk.visits)
            fig.text(0.12 / width, (top + title_in - 0.1) / H,
                     f"{title}\n{len(walk.visits)} VMAs visited, {mapped} map the page",
                     fontsize=9 * k, ha="left", va="top")
            from matplotlib.lines import Line2D
            handles = [_rect((0, 0), 1, 1, STYLES[s]) for s in ("mapped", "visited", "context")]
            labels = [STYLES[s]["label"] for s in ("mapped", "visited", "context")]
            handles.append(Line2D([], [], marker="^", color=VERMILLION, linestyle="none",
                                  markersize=8 * k))
            labels.append("the page asked about")
            below = (0.35 * k + 0.05) / lanes_in
            ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, -below),
                      fontsize=fs, frameon=False, ncol=2, handlelength=1.6, columnspacing=1.5,
                      borderaxespad=0.0)
            top -= lanes_in + legend_in
        if show_tree:
            fig.text(0.12 / width, (top - 0.05) / H, tree_title, fontsize=fs, ha="left",
                     va="top")
            box_w = width - 0.4
            tax = fig.add_axes([0.2 / width, (top - tree_block) / H, box_w / width,
                                (tree_h + 0.1) / H])
            if walk.kind == "anon":
                _draw_tree(tax, walk, pos, fs, max(box_w, tree_w + 0.1), tree_h)
            else:
                tax.set_axis_off()
                order = " → ".join(f"process {v.pid} vma#{v.vma}" for v in walk.visits)
                tax.text(0, 0.5, (order or "nothing") + "  (a fork child comes right after "
                         "its parent)", fontsize=fs, va="center", wrap=True)
        return fig


def rmap_walk_png(walk, snapshot=None, **kw) -> bytes:
    return to_png(rmap_walk_figure(walk, snapshot, **kw))


def rmap_walk_svg(walk, snapshot=None, **kw) -> str:
    return to_svg(rmap_walk_figure(walk, snapshot, **kw))
