"""The widgets' bridge to `mmviz.render`, with small stand-ins while a renderer is missing.

The widgets call the render API of DESIGN §1 (`layout.changed_vmas`, `source.source_html`,
`callgraph.callgraph_svg`, `layout.layout_png`, `timeline.timeline_png`). Where a module or
function is not there (the renderers are written alongside the widgets), the stand-in here
draws a plainer version from the same frozen trace, so a widget never breaks because a
picture is missing. `render_status()` says which are in use.
"""

from __future__ import annotations

import html
import importlib
import linecache
import os

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_MISSING = object()
_resolved: dict = {}


def _render_fn(module, name):
    key = (module, name)
    fn = _resolved.get(key)
    if fn is None:
        try:
            fn = getattr(importlib.import_module(f"mmviz.render.{module}"), name)
        except (ImportError, AttributeError):
            fn = _MISSING
        _resolved[key] = fn
    return None if fn is _MISSING else fn


def render_status() -> dict:
    """{'layout.layout_png': True, ...}: True where mmviz.render provides the function."""
    names = [("layout", "layout_png"), ("layout", "changed_vmas"), ("timeline", "timeline_png"),
             ("callgraph", "callgraph_svg"), ("source", "source_html")]
    return {f"{m}.{n}": _render_fn(m, n) is not None for m, n in names}


# --- changed VMAs ------------------------------------------------------------------------------

def changed_vmas(trace, i) -> set:
    fn = _render_fn("layout", "changed_vmas")
    if fn is not None:
        return set(fn(trace, i))
    return _changed_vmas(trace, i)


def _changed_vmas(trace, i) -> set:
    """Ids of the VMAs that are new or different after event i than before it."""
    if not trace.events:
        return set()
    before = trace.initial if i <= 0 else trace.events[i - 1].snapshot
    old = {v.id: v for v in before.vmas}
    out = set()
    now_rmap = {vid for _, ids in trace.events[i].snapshot.i_mmap for vid in ids}
    old_rmap = {vid for _, ids in before.i_mmap for vid in ids}
    for v in trace.events[i].snapshot.vmas:
        if old.get(v.id) != v or (v.id in now_rmap) != (v.id in old_rmap):
            out.add(v.id)
    return out


# --- source --------------------------------------------------------------------------------------

def source_html(event) -> str:
    fn = _render_fn("source", "source_html")
    if fn is not None:
        return fn(event)
    return _source_html(event)


def current_frame(event):
    """The innermost frame of the event's stack that knows its model source line."""
    for f in reversed(event.snapshot.stack):
        if f.file and f.line:
            return f
    return None


def _source_html(event, context=6) -> str:
    f = current_frame(event)
    if f is None:
        return ("<div style='color:#666;font-style:italic;padding:6px'>no model source at this "
                "event (user space, or the call has not reached a modelled function yet)</div>")
    path = os.path.join(_PKG_PARENT, f.file)
    first = max(1, f.line - context)
    rows = []
    for n in range(first, f.line + context + 1):
        text = linecache.getline(path, n)
        if not text and n > f.line:
            break
        cur = n == f.line
        style = "background:#fde6cf;font-weight:bold;" if cur else ""
        rows.append(f"<div style='{style}white-space:pre'><span style='color:#999;"
                    f"display:inline-block;width:3.2em;text-align:right;margin-right:0.8em'>"
                    f"{n}</span>{html.escape(text.rstrip())}</div>")
    mirror = f" — mirrors <b>{html.escape(f.kernel_source)}</b>" if f.kernel_source else ""
    return (f"<div style='font-size:12px'><div style='margin-bottom:3px'><code>"
            f"{html.escape(f.file)}:{f.line}</code> in <code>{html.escape(f.fn)}()</code>{mirror}"
            f"</div><div style='font-family:monospace;font-size:11.5px;line-height:1.35;"
            f"border:1px solid #ddd;padding:4px 0;overflow-x:auto'>{''.join(rows)}</div></div>")


# --- call graph ------------------------------------------------------------------------------

def callgraph_svg(trace, i) -> str:
    """The renderer's call graph (Graphviz) at cursor i, as an <svg> element to inline."""
    fn = _render_fn("callgraph", "callgraph_svg")
    if fn is None:
        return callstack_svg(trace, i)
    svg = fn(trace, cursor=i)
    strip = _render_fn("callgraph", "strip_xml_prolog")
    return strip(svg) if strip is not None else svg


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
        self._tree = None
        self._dot = _render_fn("callgraph", "callgraph_dot")
        tree_fn = _render_fn("callgraph", "call_tree")
        if self._dot is not None and tree_fn is not None:
            try:
                self._tree = tree_fn(trace)
            except Exception:
                self._dot = None

    def svg(self, i) -> str:
        if self._tree is None:
            return callgraph_svg(self.trace, i)
        key = self._dot(self.trace, i, tree=self._tree)
        with self._lock:
            hit = self._memo.get(key)
        if hit is None:
            fn = _render_fn("callgraph", "callgraph_svg")
            hit = fn(self.trace, cursor=i, tree=self._tree)
            strip = _render_fn("callgraph", "strip_xml_prolog")
            hit = strip(hit) if strip is not None else hit
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


# --- whole pictures (the widgets' slow, reference path) ------------------------------------

def layout_png(snapshot, highlight=None, title=None, axis=None):
    fn = _render_fn("layout", "layout_png")
    if fn is None:
        return None
    kw = {"highlight": set(highlight or ()), "title": title}
    if axis is not None:
        try:
            return fn(snapshot, axis=axis, **kw)
        except TypeError:           # a renderer without the shared-axis option
            pass
    return fn(snapshot, **kw)


def timeline_png(trace, i):
    fn = _render_fn("timeline", "timeline_png")
    return None if fn is None else fn(trace, cursor=i)
