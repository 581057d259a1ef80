"""One self-contained HTML page that steps through a trace with no Python and no network.

Every picture is rendered here, once, and embedded: the address-space layout only for the
steps whose VMAs change (frames are reused), the lock timeline once (a cursor line is moved
over it by the page's script, using the plot area's pixel box computed from matplotlib), the
call graph once as inline SVG (its nodes are highlighted by id), and the model source once
per function (the current line is marked by id). Images are data: URIs; CSS and script are
inline; nothing is fetched, so the file works from a USB stick, in an e-mail, on a slide.

Stable hooks for tests and readers: #mmviz-first/-prev/-play/-next/-last (buttons),
#mmviz-step (the <input type=range>), #mmviz-counter, #mmviz-narration, #mmviz-layout img,
#mmviz-timeline img + #mmviz-cursor, #mmviz-callgraph, #mmviz-source, #mmviz-violations;
<body data-step="N"> is the step shown.
"""

from __future__ import annotations

import base64
import html
import json

from ..trace.query import changed_vmas
from .narration import sentence, violation_message
from .text import _ret_text, ascii_strip, transcript

_CSS = r"""
:root { --fg:#1a1a1a; --muted:#555; --line:#d0d0d0; --accent:#0072B2; --bad:#D00000; }
* { box-sizing: border-box; }
body { margin: 0; padding: 14px 18px 40px; color: var(--fg); background: #fff;
  font: 14px/1.45 "DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size: 20px; margin: 0 0 2px; }
.mmviz-sub { color: var(--muted); margin: 0 0 6px; }
.mmviz-desc { max-width: 110ch; margin: 0 0 10px; }
.mmviz-controls { position: sticky; top: 0; z-index: 5; background: #fff; display: flex;
  flex-wrap: wrap; align-items: center; gap: 6px; padding: 6px 0; border-bottom: 1px solid var(--line); }
.mmviz-controls button { font: inherit; min-width: 42px; padding: 4px 10px; border: 1px solid #888;
  border-radius: 5px; background: #f6f6f6; cursor: pointer; }
.mmviz-controls button:hover { background: #e9e9e9; }
.mmviz-controls button:focus-visible, #mmviz-step:focus-visible { outline: 3px solid var(--accent); outline-offset: 1px; }
#mmviz-play[aria-pressed="true"] { background: #dbeafa; border-color: var(--accent); }
#mmviz-step { flex: 1 1 260px; min-width: 160px; accent-color: var(--accent); }
#mmviz-counter { font-variant-numeric: tabular-nums; min-width: 15ch; color: var(--muted); }
.mmviz-keys { color: var(--muted); font-size: 12px; }
#mmviz-narration { margin: 8px 0; padding: 8px 12px; border-left: 5px solid var(--accent);
  background: #f3f8fc; min-height: 3.2em; }
#mmviz-narration .mmviz-msg { font-size: 16px; }
#mmviz-narration .mmviz-meta { color: var(--muted); font-size: 12px; }
#mmviz-narration .mmviz-kind { display: inline-block; padding: 0 6px; border-radius: 8px;
  border: 1px solid #888; font-size: 11px; margin-right: 4px; }
#mmviz-narration.mmviz-is-violation { border-left-color: var(--bad); background: #fdecec; }
#mmviz-narration.mmviz-is-error { border-left-color: #D55E00; background: #fff3e8; }
#mmviz-violations { margin: 8px 0; padding: 8px 12px; border: 2px solid var(--bad); border-radius: 6px;
  background: #fdecec; color: #7a0000; }
#mmviz-violations[hidden] { display: none; }
#mmviz-violations .mmviz-violation { margin: 2px 0; }
#mmviz-violations .mmviz-violation.mmviz-now { font-weight: bold; }
#mmviz-violations .mmviz-vtitle { font-weight: bold; color: var(--bad); }
.mmviz-grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 14px; }
@media (max-width: 1100px) { .mmviz-grid { grid-template-columns: minmax(0, 1fr); } }
.mmviz-pane { border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; }
.mmviz-pane > h2 { font-size: 13px; margin: 0 0 4px; color: var(--muted); font-weight: normal;
  text-transform: uppercase; letter-spacing: .04em; }
.mmviz-pane img { display: block; width: 100%; height: auto; }
#mmviz-timeline-box { position: relative; }
#mmviz-cursor { position: absolute; width: 0; border-left: 2px solid #000; pointer-events: none;
  transition: left .12s ease-out; }
#mmviz-cursor::before { content: ""; position: absolute; left: -7px; top: -9px; border: 6px solid transparent;
  border-top: 8px solid #000; }
#mmviz-source { max-height: 560px; overflow: auto; }
#mmviz-source .mmviz-line-now { background: #F0E442; outline: 1px solid #b8a800; }
#mmviz-callgraph { overflow: auto; max-height: 460px; }
#mmviz-callgraph svg { display: block; }
#mmviz-callgraph g.node.mmviz-onpath path, #mmviz-callgraph g.node.mmviz-onpath polygon,
#mmviz-callgraph g.node.mmviz-onpath rect, #mmviz-callgraph g.node.mmviz-onpath ellipse { stroke-width: 2.5px; stroke: #000; }
#mmviz-callgraph g.node.mmviz-current path, #mmviz-callgraph g.node.mmviz-current polygon,
#mmviz-callgraph g.node.mmviz-current rect, #mmviz-callgraph g.node.mmviz-current ellipse {
  fill: #F0E442; stroke: #000; stroke-width: 3.5px; }
#mmviz-callgraph g.edge.mmviz-onpath path { stroke: #000; stroke-width: 2.5px; }
details { margin-top: 14px; }
details pre { font-size: 12px; overflow: auto; background: #fafafa; padding: 8px; border: 1px solid var(--line); }
.mmviz-sr { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
"""

_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("mmviz-data").textContent);
  var N = D.steps.length;
  var cur = -1, timer = null;
  var $ = function (id) { return document.getElementById(id); };
  var slider = $("mmviz-step"), img = document.querySelector("#mmviz-layout img");
  var cursor = $("mmviz-cursor"), narr = $("mmviz-narration"), banner = $("mmviz-violations");
  var counter = $("mmviz-counter"), srcPane = $("mmviz-source"), cg = $("mmviz-callgraph");
  var T = D.timeline;
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
  function clearMarks(cls) {
    var els = document.querySelectorAll("." + cls);
    for (var k = 0; k < els.length; k++) els[k].classList.remove(cls);
  }
  function keepVisible(box, el) {
    var b = box.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.top < b.top + 20 || r.bottom > b.bottom - 20)
      box.scrollTop += (r.top - b.top) - box.clientHeight / 3;
    if (r.left < b.left + 20 || r.right > b.right - 20)
      box.scrollLeft += (r.left - b.left) - box.clientWidth / 3;
  }
  function show(i) {
    if (!N) return;
    i = Math.max(0, Math.min(N - 1, i));
    if (i === cur) return;
    cur = i;
    var s = D.steps[i];
    document.body.setAttribute("data-step", String(i));
    slider.value = String(i);
    slider.setAttribute("aria-valuetext", "event " + s.seq + " of " + (N - 1));
    counter.textContent = "event " + s.seq + " / " + (N - 1) + (s.step ? " \u00b7 " + s.step : "");
    var lay = D.layouts[s.layout];
    if (img.getAttribute("src") !== lay.src) { img.setAttribute("src", lay.src); }
    img.setAttribute("alt", lay.alt);
    img.setAttribute("data-frame", String(s.layout));
    var x = T.left + (s.seq - T.xmin) / (T.xmax - T.xmin) * (T.right - T.left);
    cursor.style.left = (100 * x / T.width) + "%";
    cursor.setAttribute("data-seq", String(s.seq));
    narr.className = s.kind === "violation" ? "mmviz-is-violation" : (s.kind === "error" ? "mmviz-is-error" : "");
    narr.innerHTML = '<div class="mmviz-msg">' + esc(s.msg) + '</div><div class="mmviz-meta">' +
      '<span class="mmviz-kind">' + esc(s.kind) + '</span>' + (s.step ? '<b>' + esc(s.step) + '</b> \u00b7 ' : '') +
      (s.where ? 'in <code>' + esc(s.where) + '</code> \u00b7 ' : '') +
      'locks held: ' + (s.locks.length ? esc(s.locks.join(", ")) : "none") + '</div>';
    // violations reported so far
    var html = "", any = false;
    for (var k = 0; k < D.violations.length; k++) {
      var v = D.violations[k];
      if (v.seq > s.seq) continue;
      any = true;
      html += '<div class="mmviz-violation' + (v.seq === s.seq ? ' mmviz-now' : '') + '">' +
        '<span class="mmviz-vtitle">\u26a0 ' + esc(v.title) + '</span> at event ' + v.seq + ' on <code>' +
        esc(v.lock) + '</code>: ' + esc(v.message) + (v.seq === s.seq ? ' <b>(this step)</b>' : '') + '</div>';
    }
    banner.innerHTML = html;
    banner.hidden = !any;
    // call graph: the current frame and the path to it
    clearMarks("mmviz-current"); clearMarks("mmviz-onpath");
    for (var p = 0; p < s.path.length; p++) {
      var nd = document.getElementById("mmviz-cg-node-" + s.path[p]);
      if (nd) nd.classList.add("mmviz-onpath");
      var ed = document.getElementById("mmviz-cg-edge-" + s.path[p]);
      if (ed) ed.classList.add("mmviz-onpath");
    }
    var node = document.getElementById("mmviz-cg-node-" + s.node);
    if (node) { node.classList.add("mmviz-current"); keepVisible(cg, node); }
    // source: the block of the current function, its line marked
    var blocks = srcPane.querySelectorAll(".mmviz-src-block");
    for (var b = 0; b < blocks.length; b++) blocks[b].hidden = (b !== s.src);
    clearMarks("mmviz-line-now");
    var block = blocks[s.src];
    if (block) {
      var w = block.querySelector(".mmviz-src-where");
      if (w && s.where) w.textContent = s.where;
      if (s.line) {
        var ln = document.getElementById("mmviz-src-" + s.src + "-" + s.line);
        if (ln) { ln.classList.add("mmviz-line-now"); keepVisible(srcPane, ln); }
      }
    }
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    var b = $("mmviz-play"); b.setAttribute("aria-pressed", "false");
    b.setAttribute("aria-label", "Play"); b.textContent = "\u25b6 Play";
  }
  function play() {
    if (timer) { stop(); return; }
    if (cur >= N - 1) show(0);
    var b = $("mmviz-play"); b.setAttribute("aria-pressed", "true");
    b.setAttribute("aria-label", "Pause"); b.textContent = "\u275a\u275a Pause";
    timer = setInterval(function () { if (cur >= N - 1) stop(); else show(cur + 1); }, 700);
  }
  $("mmviz-first").addEventListener("click", function () { stop(); show(0); });
  $("mmviz-prev").addEventListener("click", function () { stop(); show(cur - 1); });
  $("mmviz-next").addEventListener("click", function () { stop(); show(cur + 1); });
  $("mmviz-last").addEventListener("click", function () { stop(); show(N - 1); });
  $("mmviz-play").addEventListener("click", play);
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target === slider) return;            // the slider moves itself with the arrow keys
    var t = e.target && e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT") return;
    var to = null;
    if (e.key === "ArrowRight") to = cur + 1;
    else if (e.key === "ArrowLeft") to = cur - 1;
    else if (e.key === "Home") to = 0;
    else if (e.key === "End") to = N - 1;
    if (to === null) return;
    e.preventDefault(); stop(); show(to);
  });
  var start = parseInt((location.hash.match(/step=(\d+)/) || [0, 0])[1], 10);
  show(start);
})();
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _layout_alt(snapshot) -> str:
    if not snapshot.vmas:
        return "Address space: no VMAs, nothing is mapped."
    lines = ascii_strip(snapshot.vmas, legend=True).splitlines()[1:]
    head = f"Address space: {len(snapshot.vmas)} VMA{'s' if len(snapshot.vmas) != 1 else ''}. "
    body = "; ".join(t.split("= ", 1)[-1].strip() for t in lines[:30])
    return head + body + ("; …" if len(lines) > 30 else "")


def _script_json(obj) -> str:
    """JSON that is inert inside <script>: `<`, `>` and `&` (and U+2028/9) as \\u escapes.

    The HTML parser ends or derails a script at `</script>` or `<!--` whatever JSON means;
    a \\u escape is the one form that is still valid JSON and never markup.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch in "<>&\u2028\u2029":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def stepper_html(trace, *, title=None) -> str:
    """A complete, self-contained HTML document that steps through `trace` offline."""
    from ._mpl import to_png_compact
    from .callgraph import call_tree, callgraph_svg, strip_xml_prolog
    from .layout import axis_for, layout_figure
    from .source import code_html, hook_card, resolve, user_card, _header
    from .timeline import (VIOLATION_TITLES, axes_pixel_box, lock_intervals,
                           timeline_figure)

    events = trace.events
    n = len(events)
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    axis = axis_for([trace.initial, trace.final] + [e.snapshot for e in events])

    # layout frames, one per distinct picture
    frames, frame_of = [], {}
    layout_idx = []
    for i, e in enumerate(events):
        snap = e.snapshot
        hl = changed_vmas(trace, i)
        key = (snap.vmas, hl & {v.id for v in snap.vmas}, snap.map_count, snap.pending_action)
        if key not in frame_of:
            fig = layout_figure(snap, highlight=hl, axis=axis)
            frame_of[key] = len(frames)
            frames.append({"src": _data_uri(to_png_compact(fig)), "alt": _layout_alt(snap)})
        layout_idx.append(frame_of[key])
    if not events:
        fig = layout_figure(trace.final, axis=axis)
        frames.append({"src": _data_uri(to_png_compact(fig)), "alt": _layout_alt(trace.final)})

    # timeline, once; the cursor is placed over it in percent of the image
    intervals = lock_intervals(trace)
    tfig = timeline_figure(trace, None, intervals=intervals)
    box = axes_pixel_box(tfig)
    timeline_src = _data_uri(to_png_compact(tfig))

    # call graph, once
    tree = call_tree(trace)
    cg_svg = strip_xml_prolog(callgraph_svg(trace, None, tree=tree))

    # source: one block per function (its lines carry ids), one card per hook, one user card
    blocks, block_of = [], {}
    step_src = []
    for e in events:
        kind, fn, fs, line = resolve(e)
        key = (kind, fn, fs.module if fs else None)
        if key not in block_of:
            b = len(blocks)
            block_of[key] = b
            if kind == "source":
                inner = (f'<div class="mmviz-source" style="border:1px solid #ccc;border-radius:6px;overflow:hidden">'
                         f'{_header(fs, None)}{code_html(fs, None, linespans=f"mmviz-src-{b}")}</div>')
            elif kind == "hook":
                inner = hook_card(fn)
            elif kind == "user":
                inner = user_card()
            else:
                inner = f"<p>The model has no source for {html.escape(fn or '?')}().</p>"
            blocks.append(inner)
        where = f"{fs.file}:{line}" if fs is not None and line else ""
        step_src.append((block_of[key], line if kind == "source" else None, where))

    steps = []
    for i, e in enumerate(events):
        b, line, where = step_src[i]
        frame = e.snapshot.stack[-1] if e.snapshot.stack else None
        steps.append({
            "seq": e.seq, "kind": e.kind, "fn": e.fn, "step": e.step or "", "msg": sentence(e, trace.kernel),
            "locks": list(e.snapshot.locks_held), "layout": layout_idx[i],
            "node": tree.active[i], "path": tree.path(tree.active[i]),
            "src": b, "line": line,
            "where": (f"{frame.fn}() — {where}" if frame is not None and where else
                      (frame.fn if frame is not None else "")),
        })
    violations = [{"seq": v.seq, "kind": v.kind, "lock": v.lock,
                   "message": violation_message(trace, v),
                   "title": VIOLATION_TITLES.get(v.kind, v.kind.upper())} for v in trace.violations]
    data = {"steps": steps, "layouts": frames, "violations": violations,
            "timeline": {"width": box["width"], "height": box["height"], "left": box["left"],
                         "right": box["right"], "xmin": box["xmin"], "xmax": box["xmax"]}}

    heading = title or trace.title
    result = _ret_text(trace.result)
    nviol = len(trace.violations)
    vsum = (f"{nviol} lock violation{'s' if nviol != 1 else ''} (event "
            f"{', '.join(str(v.seq) for v in trace.violations)})" if nviol else "no lock violations")
    top_pct = 100 * box["top"] / box["height"]
    height_pct = 100 * (box["bottom"] - box["top"]) / box["height"]
    first_frame = frames[layout_idx[0]] if events else frames[0]
    esc = html.escape
    src_blocks = "\n".join(f'<div class="mmviz-src-block" hidden>{b}</div>' for b in blocks)
    out = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<link rel="icon" href="data:,">
<title>mmviz — {esc(trace.scenario)} ({esc(trace.kernel)})</title>
<style>{_CSS}</style>
</head>
<body data-step="0" data-scenario="{esc(trace.scenario)}" data-kernel="{esc(trace.kernel)}">
<header>
<h1>{esc(heading)}</h1>
<p class="mmviz-sub">scenario <code>{esc(trace.scenario)}</code> · kernel <b>{esc(trace.kernel)}</b> ({mode}) ·
{n} event{'s' if n != 1 else ''} · result: <b>{esc(result)}</b> · {esc(vsum)}</p>
<p class="mmviz-desc">{esc(trace.description)}</p>
</header>
<nav class="mmviz-controls" role="toolbar" aria-label="Step through the trace">
<button type="button" id="mmviz-first" aria-label="First step" title="First step (Home)">|&#9664;</button>
<button type="button" id="mmviz-prev" aria-label="Previous step" title="Previous step (Left arrow)">&#9664;</button>
<button type="button" id="mmviz-play" aria-label="Play" aria-pressed="false" title="Play / pause">&#9654; Play</button>
<button type="button" id="mmviz-next" aria-label="Next step" title="Next step (Right arrow)">&#9654;</button>
<button type="button" id="mmviz-last" aria-label="Last step" title="Last step (End)">&#9654;|</button>
<input type="range" id="mmviz-step" min="0" max="{max(n - 1, 0)}" value="0" step="1" aria-label="Event number">
<output id="mmviz-counter" for="mmviz-step" aria-live="off">event 0 / {max(n - 1, 0)}</output>
<span class="mmviz-keys">keys: ← → step · Home/End</span>
</nav>
<div id="mmviz-narration" aria-live="polite" aria-atomic="true">{esc(sentence(events[0], trace.kernel)) if events else "This trace has no events."}</div>
<div id="mmviz-violations" role="alert" hidden></div>
<noscript><p>This page needs JavaScript to step; the text transcript at the bottom has every step.</p></noscript>
<main class="mmviz-grid">
<div>
<section class="mmviz-pane" id="mmviz-layout" aria-label="Address space layout">
<h2>Address space</h2>
<img src="{first_frame['src']}" alt="{esc(first_frame['alt'])}" data-frame="0">
</section>
<section class="mmviz-pane" id="mmviz-timeline" aria-label="Lock timeline" style="margin-top:14px">
<h2>Locks held over time</h2>
<div id="mmviz-timeline-box">
<img src="{timeline_src}" alt="Lock timeline: {esc('; '.join(f'{iv.lock} held from event {max(iv.start, 0)} to ' + (str(iv.end) if iv.end is not None else 'the end') for iv in intervals)[:1500])}">
<div id="mmviz-cursor" style="top:{top_pct:.3f}%; height:{height_pct:.3f}%; left:0"></div>
</div>
</section>
</div>
<section class="mmviz-pane" id="mmviz-source" aria-label="Model source of the current function">
<h2>Source</h2>
{src_blocks}
</section>
</main>
<section class="mmviz-pane" id="mmviz-callgraph" aria-label="Call graph" style="margin-top:14px">
<h2>Call graph</h2>
{cg_svg}
</section>
<details>
<summary>Text transcript (every step, for screen readers and copying)</summary>
<pre>{esc(transcript(trace))}</pre>
</details>
<script type="application/json" id="mmviz-data">{_script_json(data)}</script>
<script>{_JS}</script>
</body>
</html>
"""
    return out
