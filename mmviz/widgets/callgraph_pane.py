"""The call-graph pane of the widgets: the renderer's Graphviz picture, memoised per trace,
and a compact indented call stack narrow enough for a side column."""

from __future__ import annotations

import html

from ..render.callgraph import call_tree, callgraph_dot, callgraph_svg, strip_xml_prolog


class CallgraphCache:
    """`callgraph_svg` for one trace, running Graphviz once per distinct picture.

    The renderer's picture depends on the cursor only through the highlighted frame, so the
    SVG is memoised by the DOT text it is drawn from (`callgraph_dot`, public API): every
    event inside one call shares one `dot` run.
    """

    def __init__(self, trace):
        import threading
        self.trace = trace
        self._memo = {}
        self._lock = threading.Lock()
        self._tree = call_tree(trace)

    def svg(self, i) -> str:
        key = callgraph_dot(self.trace, i, tree=self._tree)
        with self._lock:
            hit = self._memo.get(key)
        if hit is None:
            hit = strip_xml_prolog(callgraph_svg(self.trace, cursor=i, tree=self._tree))
            with self._lock:
                if len(self._memo) > 512:
                    self._memo.clear()
                self._memo[key] = hit
        return hit


def _call_tree(trace, i):
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


def callstack_svg(trace, i, max_rows=44) -> str:
    """The calls made so far as a compact indented tree, the active path in blue and the
    current call outlined: narrow enough for a side column (the widgets' own picture)."""
    if not trace.events:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>"
    root, current = _call_tree(trace, i)
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
    lh, char_w = 17, 6.9
    body = []
    width = 0
    for k, (node, depth) in enumerate(rows):
        y = 3 + k * lh
        x = 4 + depth * 14
        name, _, state, ret = node
        is_cur = node is current
        label = name + ("" if name == "user space" or "->" in name or name.endswith("_hook")
                        else "()")
        if state == "done":
            label += f" → {ret}"
        tw = char_w * len(label) + 10
        width = max(width, x + tw + 4)
        fill = "#fde6cf" if is_cur else ("#eef4fb" if state == "active" else "#f6f6f6")
        stroke = "#e0550b" if is_cur else ("#3b7dd8" if state == "active" else "#cccccc")
        colour = "#222" if state == "active" else "#888"
        if state == "done" and ret and str(ret).startswith("-E"):
            colour = "#b0202a"
        if depth:
            body.append(f"<line x1='{x - 8}' y1='{y + lh / 2 - 1}' x2='{x}' y2='{y + lh / 2 - 1}' "
                        "stroke='#bbbbbb'/>")
        body.append(f"<rect x='{x}' y='{y}' width='{tw:.0f}' height='{lh - 3}' rx='3' "
                    f"fill='{fill}' stroke='{stroke}' stroke-width='{1.6 if is_cur else 0.8}'/>")
        weight = " font-weight='bold'" if is_cur else ""
        body.append(f"<text x='{x + 5}' y='{y + lh - 7}' fill='{colour}'{weight}>"
                    f"{html.escape(label)}</text>")
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' "
             f"height='{lh * len(rows) + 6}' font-family='DejaVu Sans Mono, monospace' "
             "font-size='11.5'>"] + body
    parts.append("</svg>")
    return "".join(parts)
