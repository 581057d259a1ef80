"""The call graph of a trace: which modelled functions called which, and which driver hooks
were reached through a function pointer.

The tree is rebuilt from the trace's call / return / hook events. Repeated calls of one
function under one caller merge into a single node marked "×N", so the picture stays the
size of the code path, not of the run. Calls through a pointer (`f_op->mmap_prepare`,
`f_op->mmap`, `vm_ops->mapped`, `vm_ops->close`, `success_hook`, `error_hook`) are a different
kind of edge: dashed, labelled "via pointer", ending in a hook-coloured node.

`callgraph_dot` writes Graphviz DOT; `callgraph_svg` runs `dot` when it is installed and
otherwise draws the same tree itself (plainly, and says so), never raising.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import zlib

from ..trace.query import call_tree
from .palette import HOOK_EDGE, NOW, NOW_OUTLINE, NOW_PATH

ROOT_LABEL = "user space"
NODE_ID = "mmviz-cg-node-{}"
EDGE_ID = "mmviz-cg-edge-{}"

FILL = "#ffffff"
HOOK_FILL = "#FBE3B0"        # light orange: driver code (orange = files/drivers in mmviz)
FAIL_COLOUR = "#B03A00"       # a darker vermillion: readable on the yellow highlight
CURRENT_FILL = NOW           # Okabe–Ito yellow, with a thick outline: the current frame
PATH_FILL = NOW_PATH


def _dot_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def callgraph_dot(trace, cursor=None, *, tree=None) -> str:
    """Graphviz DOT for the call tree of `trace`; the frame of event `cursor` highlighted.

    Nodes have ids `mmviz-cg-node-N`, edges `mmviz-cg-edge-N` (N = the callee's node), which
    `dot` copies into its SVG, so a page can highlight a node without re-running `dot`.
    """
    tree = call_tree(trace) if tree is None else tree
    current = tree.active[cursor] if cursor is not None and 0 <= cursor < len(tree.active) else None
    on_path = set(tree.path(current)) if current is not None else set()
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    out = [
        "digraph callgraph {",
        f'  graph [rankdir=LR, ordering=out, nodesep=0.08, ranksep=0.22, fontname="DejaVu Sans", '
        f'fontsize=11, labelloc=t, labeljust=l, '
        f'label={_dot_str(f"call graph — {trace.scenario} ({trace.kernel}, {mode})")}];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#444444", '
        'fontname="DejaVu Sans", fontsize=10, height=0.28, margin="0.07,0.03"];',
        '  edge [color="#666666", arrowsize=0.55, fontname="DejaVu Sans", fontsize=8];',
    ]
    for node in tree.nodes:
        name, err = node.label_lines()
        label = html.escape(name)
        if err:
            label += f'<BR/><FONT COLOR="{FAIL_COLOUR}">{html.escape(err)}</FONT>'
        attrs = [f"id={_dot_str(NODE_ID.format(node.id))}", f"label=<{label}>"]
        style = ["rounded", "filled"]
        fill = HOOK_FILL if node.pointer else FILL
        if node.id == 0:
            attrs.append("shape=oval")
            fill = "#eeeeee"
        if node.pointer:
            style.append("dashed")
        if node.id == current:
            fill = CURRENT_FILL
            attrs.append("penwidth=3")
            attrs.append('color="#000000"')
        elif node.id in on_path:
            fill = PATH_FILL if not node.pointer else fill
            attrs.append("penwidth=2")
        attrs.append(f"style={_dot_str(','.join(style))}")
        attrs.append(f'fillcolor="{fill}"')
        out.append(f"  n{node.id} [{', '.join(attrs)}];")
    for node in tree.nodes[1:]:
        attrs = [f"id={_dot_str(EDGE_ID.format(node.id))}"]
        if node.pointer:
            attrs += ['style=dashed', 'label="via pointer"', f'color="{HOOK_EDGE}"',
                      f'fontcolor="{HOOK_EDGE}"']
        if node.id in on_path:
            attrs.append("penwidth=2.2")
        out.append(f"  n{node.parent} -> n{node.id} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


_XML_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", re.S)


def strip_xml_prolog(svg: str) -> str:
    """The <svg> element alone (for inlining into HTML)."""
    return _XML_PROLOG.sub("", svg, count=1)


def callgraph_svg(trace, cursor=None, *, tree=None, timeout=20.0) -> str:
    """The call graph as SVG: Graphviz's drawing when `dot` is installed, otherwise a plain
    tree drawn here and labelled "simplified drawing (Graphviz not installed)"."""
    tree = call_tree(trace) if tree is None else tree
    dot = shutil.which("dot")
    if dot:
        try:
            res = subprocess.run([dot, "-Tsvg"], input=callgraph_dot(trace, cursor, tree=tree),
                                 capture_output=True, text=True, timeout=timeout)
            if res.returncode == 0 and "<svg" in res.stdout:
                return res.stdout
            note = "simplified drawing (Graphviz failed: " + \
                (res.stderr.strip().splitlines() or ["no output"])[0][:80] + ")"
        except (OSError, subprocess.SubprocessError) as e:
            note = f"simplified drawing (Graphviz failed: {type(e).__name__})"
    else:
        note = "simplified drawing (Graphviz not installed)"
    return fallback_svg(trace, cursor, tree=tree, note=note)


def fallback_svg(trace, cursor=None, *, tree=None, note="simplified drawing (Graphviz not installed)") -> str:
    """A left-to-right tree drawn without Graphviz: one column per call depth, one row per
    leaf, each caller centred on its callees; the same node and edge ids as the DOT."""
    tree = call_tree(trace) if tree is None else tree
    current = tree.active[cursor] if cursor is not None and 0 <= cursor < len(tree.active) else None
    on_path = set(tree.path(current)) if current is not None else set()
    g = _fallback_geometry(tree.nodes)
    esc = html.escape
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    w, h = g["width"], g["height"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}pt" height="{h:.0f}pt" '
        f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="DejaVu Sans, sans-serif" font-size="11">',
        '<g id="graph0" class="graph">',
        f'<rect x="0" y="0" width="{w:.0f}" height="{h:.0f}" fill="white"/>',
        f'<text x="12" y="18" font-size="12" font-weight="bold">'
        f'{esc(f"call graph — {trace.scenario} ({trace.kernel}, {mode})")}</text>',
        f'<text class="mmviz-fallback-note" x="12" y="34" font-size="11" fill="#a04000">{esc(note)}</text>',
    ]
    parts += _fallback_edges(tree.nodes, g, on_path)
    parts += _fallback_nodes(tree.nodes, g, current, on_path)
    parts.append("</g></svg>")
    return "\n".join(parts) + "\n"


def _fallback_geometry(nodes) -> dict:
    """Box sizes, column x per depth, row y per node, and the picture's size."""
    char_w, line_h, pad = 7.0, 15, 6
    size = {}
    for n in nodes:
        lines = n.label().split("\n")
        size[n.id] = (max(len(t) for t in lines) * char_w + 2 * pad, len(lines) * line_h + 6)
    depth_w = {}
    for n in nodes:
        depth_w[n.depth] = max(depth_w.get(n.depth, 0), size[n.id][0])
    col_x, x = {}, 12
    for d in sorted(depth_w):
        col_x[d] = x
        x += depth_w[d] + 36
    y_of, cursor_y = {}, [44.0]

    def place(nid):
        n = nodes[nid]
        if not n.children:
            y_of[nid] = cursor_y[0] + size[nid][1] / 2
            cursor_y[0] += size[nid][1] + 8
            return
        for c in n.children:
            place(c)
        y_of[nid] = (y_of[n.children[0]] + y_of[n.children[-1]]) / 2

    place(0)
    return {"size": size, "col_x": col_x, "y_of": y_of, "width": x,
            "height": cursor_y[0] + 10, "line_h": line_h}


def _fallback_edges(nodes, g, on_path) -> list:
    esc, size, col_x, y_of = html.escape, g["size"], g["col_x"], g["y_of"]
    parts = []
    for n in nodes[1:]:
        p = nodes[n.parent]
        x1, y1 = col_x[p.depth] + size[p.id][0], y_of[p.id]
        x2, y2 = col_x[n.depth], y_of[n.id]
        mx = (x1 + x2) / 2
        dash = ' stroke-dasharray="5,3"' if n.pointer else ""
        colour = HOOK_EDGE if n.pointer else "#666666"
        width = 2.2 if n.id in on_path else 1.0
        parts.append(f'<g id="{EDGE_ID.format(n.id)}" class="edge">'
                     f'<title>{esc(p.fn)}&#45;&gt;{esc(n.fn)}</title>'
                     f'<path fill="none" stroke="{colour}" stroke-width="{width}"{dash} '
                     f'd="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2 - 4:.1f},{y2:.1f}"/>'
                     f'<polygon fill="{colour}" stroke="{colour}" points="{x2:.1f},{y2:.1f} '
                     f'{x2 - 6:.1f},{y2 - 3:.1f} {x2 - 6:.1f},{y2 + 3:.1f}"/>')
        if n.pointer:
            parts.append(f'<text x="{mx:.1f}" y="{y2 - 4:.1f}" font-size="8" fill="{HOOK_EDGE}" '
                         f'text-anchor="middle">via pointer</text>')
        parts.append("</g>")
    return parts


def _fallback_nodes(nodes, g, current, on_path) -> list:
    esc, size, col_x, y_of = html.escape, g["size"], g["col_x"], g["y_of"]
    parts = []
    for n in nodes:
        w, h = size[n.id]
        x, y = col_x[n.depth], y_of[n.id] - h / 2
        fill = "#eeeeee" if n.id == 0 else (HOOK_FILL if n.pointer else FILL)
        stroke, sw = "#444444", 1.0
        if n.id == current:
            fill, stroke, sw = CURRENT_FILL, "#000000", 3.0
        elif n.id in on_path:
            fill = PATH_FILL if not n.pointer else fill
            sw = 2.0
        dash = ' stroke-dasharray="4,2"' if n.pointer else ""
        parts.append(f'<g id="{NODE_ID.format(n.id)}" class="node"><title>{esc(n.fn)}</title>'
                     f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="5" '
                     f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"{dash}/>')
        for k, t in enumerate(n.label().split("\n")):
            colour = FAIL_COLOUR if k else "#000000"
            parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 15 + k * g["line_h"]:.1f}" '
                         f'text-anchor="middle" fill="{colour}">{esc(t)}</text>')
        parts.append("</g>")
    return parts


# --- the current call marked by CSS over a graph drawn once ----------------------------------------

_SHAPES = ("path", "polygon", "rect", "ellipse")


def highlight_css(tree, node, scope: str = "") -> str:
    """CSS that marks call-tree node `node` (yellow, thick black outline) and the calls on the
    way to it in an SVG drawn once with no cursor (`callgraph_svg(trace, None)`): a view moves
    the mark by swapping this small style, never running Graphviz again."""
    if node is None:
        return ""
    path = tree.path(node)
    rules = []
    on_path = [n for n in path if n != node]
    if on_path:
        sel = ", ".join(f"{scope} #{NODE_ID.format(n)} {shp}".strip() for n in on_path
                        for shp in _SHAPES)
        rules.append(f"{sel} {{ stroke: {NOW_OUTLINE}; stroke-width: 2px; }}")
        plain = [n for n in on_path if n and not tree.nodes[n].pointer]
        if plain:
            sel = ", ".join(f"{scope} #{NODE_ID.format(n)} {shp}".strip() for n in plain
                            for shp in _SHAPES)
            rules.append(f"{sel} {{ fill: {NOW_PATH}; }}")
    edges = [n for n in path if n]
    if edges:
        sel = ", ".join(f"{scope} #{EDGE_ID.format(n)} path".strip() for n in edges)
        rules.append(f"{sel} {{ stroke: {NOW_OUTLINE}; stroke-width: 2.2px; }}")
    sel = ", ".join(f"{scope} #{NODE_ID.format(node)} {shp}".strip() for shp in _SHAPES)
    rules.append(f"{sel} {{ fill: {NOW}; stroke: {NOW_OUTLINE}; stroke-width: 3.5px; }}")
    return "\n".join(rules)


# --- the compact call stack (a narrow side column) ------------------------------------------------

def _calls_so_far(trace, i):
    """The calls made up to event i as a tree: [fn, children, state, ret]; state active|done."""
    root = ["user space", [], "active", None]
    stack = [root]
    for e in trace.events[: i + 1]:
        phase = e.data.get("phase")
        if e.kind == "call" or (e.kind == "hook" and phase == "enter"):
            node = [e.fn, [], "active", None]
            stack[-1][1].append(node)
            stack.append(node)
        elif (e.kind == "return" or (e.kind == "hook" and phase == "exit")) and len(stack) > 1:
            node = stack.pop()
            node[2] = "done"
            node[3] = e.data.get("ret")
    return root, stack[-1]


def _stack_rows(root, max_rows):
    rows = []

    def walk(node, depth):
        rows.append((node, depth))
        for c in node[1]:
            walk(c, depth + 1)
    walk(root, 0)
    if len(rows) > max_rows:            # keep the active path, drop the oldest finished calls
        keep = [r for r in rows if r[0][2] == "active"]
        done = [r for r in rows if r[0][2] != "active"][-(max_rows - len(keep)):]
        ids = {id(r[0]) for r in keep + done}
        rows = [r for r in rows if id(r[0]) in ids]
    return rows


def callstack_svg(trace, i, max_rows=44, scale=1.0) -> str:
    """The calls made so far as a compact indented tree: the active path tinted, the current
    call yellow with a black outline (the call graph's colours), finished calls grey with
    what they returned. Narrow enough for a side column."""
    if not trace.events:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>"
    root, current = _calls_so_far(trace, i)
    rows = _stack_rows(root, max_rows)
    lh, char_w = 17 * scale, 6.9 * scale
    body, width = [], 0
    for k, (node, depth) in enumerate(rows):
        y, x = 3 + k * lh, 4 + depth * 14 * scale
        name, _, state, ret = node
        is_cur = node is current
        label = name + ("" if name == "user space" or "->" in name or name.endswith("_hook")
                        else "()")
        if state == "done":
            label += f" → {ret}"
        tw = char_w * len(label) + 10
        width = max(width, x + tw + 4)
        fill = NOW if is_cur else (NOW_PATH if state == "active" else "#f6f6f6")
        stroke = NOW_OUTLINE if is_cur else ("#555555" if state == "active" else "#cccccc")
        colour = "#222" if state == "active" else "#888"
        if state == "done" and ret and str(ret).startswith("-E"):
            colour = FAIL_COLOUR
        if depth:
            body.append(f"<line x1='{x - 8}' y1='{y + lh / 2 - 1}' x2='{x}' y2='{y + lh / 2 - 1}' "
                        "stroke='#bbbbbb'/>")
        body.append(f"<rect x='{x}' y='{y}' width='{tw:.0f}' height='{lh - 3}' rx='3' "
                    f"fill='{fill}' stroke='{stroke}' stroke-width='{2 if is_cur else 0.8}'/>")
        weight = " font-weight='bold'" if is_cur else ""
        body.append(f"<text x='{x + 5}' y='{y + lh - 7 * scale}' fill='{colour}'{weight}>"
                    f"{html.escape(label)}</text>")
    inner = "".join(body)
    key = zlib.crc32(inner.encode()) & 0xFFFFFFFF      # same picture, same key: not re-sent
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='mmviz-callstack-svg' "
            f"data-key='{key:08x}' width='{width:.0f}' height='{lh * len(rows) + 6:.0f}' "
            f"font-family='DejaVu Sans Mono, monospace' font-size='{11.5 * scale:g}'>"
            + inner + "</svg>")



# --- keeping the current call in view (a pane that cannot scroll itself) ---------------------

_SVG_SIZE = re.compile(r'<svg[^>]*?width="([\d.]+)(pt|px)?"[^>]*?viewBox="([-\d. ]+)"', re.S)
_TRANSLATE = re.compile(r'<g id="graph0"[^>]*transform="[^"]*translate\(([-\d.]+)[ ,]([-\d.]+)\)')
_NODE = re.compile(r'<g id="mmviz(?:-|&#45;)cg(?:-|&#45;)node(?:-|&#45;)(\d+)"[^>]*>(.*?)</g>',
                   re.S)
_POINTS = re.compile(r'(?:points|d)="([^"]*)"')
_ELLIPSE = re.compile(r'cx="([-\d.]+)" cy="([-\d.]+)"')
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _shape_center(body):
    """The centre of a node's shape: an ellipse's centre, or the middle of its outline."""
    e = _ELLIPSE.search(body)
    if e:
        return float(e.group(1)), float(e.group(2))
    m = _POINTS.search(body)
    if not m:
        return None
    nums = [float(x) for x in _NUM.findall(m.group(1))]
    xs, ys = nums[0::2], nums[1::2]
    if not xs or not ys:
        return None
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def node_centers(svg: str) -> dict:
    """{node: (x, y)} of each call-graph node's label, in CSS pixels of the SVG as drawn
    inline (Graphviz writes sizes in points and nodes in a translated group)."""
    m = _SVG_SIZE.search(svg)
    if not m:
        return {}
    width = float(m.group(1)) * (4 / 3 if (m.group(2) or "pt") == "pt" else 1)
    vb = [float(x) for x in m.group(3).split()]
    k = width / vb[2] if len(vb) == 4 and vb[2] else 1.0
    t = _TRANSLATE.search(svg)
    tx, ty = (float(t.group(1)), float(t.group(2))) if t else (0.0, 0.0)
    out = {}
    for n, body in _NODE.findall(svg):
        c = _shape_center(body)
        if c is not None:
            out[int(n)] = ((c[0] + tx - vb[0]) * k, (c[1] + ty - vb[1]) * k)
    return out


def focus_css(centers: dict, node, scope: str = "", pane_height: int = 640) -> str:
    """CSS that shifts the call graph so node `node` sits in the middle of its pane (the
    pane of a widget cannot be scrolled from Python; the offline page scrolls instead)."""
    if node not in centers:
        return ""
    x, y = centers[node]
    # cqw: a width of the pane itself (a container), whatever the column gives it
    return (f"{scope} .mmviz-callgraph {{ container-type: inline-size; }}\n"
            f"{scope} .mmviz-callgraph svg {{ display: block; "
            f"margin-left: min(0px, calc(50cqw - {x:.0f}px)); "
            f"margin-top: {min(0.0, pane_height / 2 - y):.0f}px; }}").strip()
