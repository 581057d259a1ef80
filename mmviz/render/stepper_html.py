"""One self-contained HTML page that steps through a trace with no Python and no network.

The page shows the frames of `mmviz.render.frame.FrameBuilder`, the builder every view uses,
so it says and draws what the notebook's Stepper does: the same narration, banner, changed
VMAs, palette and pictures. What the frames share is embedded once: each distinct layout
picture, the lock timeline (the script moves the frame's cursor over it), the call graph as
inline SVG and each function's highlighted source (the frame's CSS marks the current node
and line). Images are data: URIs; CSS and script are inline; nothing is fetched, so the
file works from a USB stick, in an e-mail, on a slide.

Stable hooks for tests and readers: #mmviz-first/-prev/-play/-next/-last (buttons),
#mmviz-prev-KIND / #mmviz-next-KIND (jumps, as in the widget: hook, lock, vma, error,
violation), #mmviz-step (the <input type=range>), #mmviz-counter, #mmviz-narration,
#mmviz-layout img, #mmviz-timeline img + #mmviz-cursor, #mmviz-callgraph, #mmviz-source,
#mmviz-violations, #mmviz-text (this step as text: its transcript line and the ASCII strip);
<body data-step="N"> is the step shown. Pictures carry data-min-font-px, their smallest text
in image pixels (what a lecture-room check measures).

Keys: ← → step, PageDown / PageUp step forward / back (a presenter's clicker sends them),
Home / End; in the lecture layout 1-5 choose the view.

`lecture=True` is the lecture-room layout for a 1280x720 slide (`mmviz slides`): one view
at a time at full width (layout, lock timeline, source, call graph, text; 1-5 or the tabs),
pictures drawn at `LECTURE_SCALE` so that their smallest text is at least 18 px.
"""

from __future__ import annotations

import base64
import html
import json

from .text import _ret_text, transcript

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
#mmviz-narration { margin: 8px 0; padding: 6px 12px; border-left: 5px solid var(--accent);
  background: #f3f8fc; min-height: 3.2em; }
#mmviz-narration .mmviz-sentence { font-size: 16px !important; }
#mmviz-narration.mmviz-is-violation { border-left-color: var(--bad); background: #fdecec; }
#mmviz-narration.mmviz-is-error { border-left-color: #D55E00; background: #fff3e8; }
#mmviz-violations { margin: 8px 0; }
#mmviz-violations[hidden] { display: none; }
#mmviz-violations .mmviz-violation { margin: 2px 0; }
.mmviz-grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 14px; }
@media (max-width: 1100px) { .mmviz-grid { grid-template-columns: minmax(0, 1fr); } }
.mmviz-pane { border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; }
.mmviz-pane > h2 { font-size: 13px; margin: 0 0 4px; color: var(--muted); font-weight: normal;
  text-transform: uppercase; letter-spacing: .04em; }
.mmviz-pane img { display: block; width: 100%; height: auto; }
#mmviz-timeline-box { position: relative; }
#mmviz-layout-caption { margin: 0 0 2px; text-align: right; font-size: 12px; color: var(--muted); }
#mmviz-cursor { position: absolute; width: 0; border-left: 2px solid #000; pointer-events: none;
  transition: left .12s ease-out; }
#mmviz-cursor::before { content: ""; position: absolute; left: -7px; top: -9px; border: 6px solid transparent;
  border-top: 8px solid #000; }
#mmviz-source { max-height: 560px; overflow: auto; }
#mmviz-callgraph { overflow: auto; max-height: 460px; }
#mmviz-callgraph svg { display: block; }
.mmviz-jumps { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px;
  padding: 4px 0; font-size: 13px; color: var(--muted); }
.mmviz-jumps span.mmviz-jump { display: inline-flex; align-items: center; gap: 3px; color: var(--fg); }
.mmviz-jumps button { font: inherit; padding: 1px 7px; border: 1px solid #888; border-radius: 5px;
  background: #f6f6f6; cursor: pointer; }
.mmviz-jumps button:disabled { opacity: .4; cursor: default; }
#mmviz-text pre { font-size: 12px; line-height: 1.3; overflow: auto; margin: 4px 0; }
.mmviz-views { display: none; }
details { margin-top: 14px; }
details pre { font-size: 12px; overflow: auto; background: #fafafa; padding: 8px; border: 1px solid var(--line); }
.mmviz-sr { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
"""

_LECTURE_CSS = r"""
body.mmviz-lecture { padding: 6px 10px 10px; font-size: 20px; }
.mmviz-lecture header, .mmviz-lecture .mmviz-keys, .mmviz-lecture details { display: none; }
.mmviz-lecture .mmviz-controls { position: static; padding: 2px 0; gap: 6px; font-size: 16px; }
.mmviz-lecture .mmviz-controls button { padding: 2px 10px; }
.mmviz-lecture #mmviz-counter { font-size: 17px; }
.mmviz-lecture .mmviz-jumps { font-size: 16px; padding: 2px 0; gap: 2px 8px; }
.mmviz-lecture #mmviz-words { height: 100px; overflow: auto; margin: 2px 0; }
.mmviz-lecture #mmviz-narration { margin: 0; padding: 2px 10px; min-height: 0; }
.mmviz-lecture #mmviz-timeline-box { width: fit-content; max-width: 100%; margin: 0 auto; }
.mmviz-lecture .mmviz-bar { display: flex; flex-wrap: wrap; align-items: center;
  justify-content: space-between; gap: 4px; }
.mmviz-lecture #mmviz-narration .mmviz-say, .mmviz-lecture #mmviz-narration div { font-size: 18px !important; }
.mmviz-lecture #mmviz-narration .mmviz-sentence { font-size: 21px !important; }
.mmviz-lecture #mmviz-violations { font-size: 18px; margin: 0; }
.mmviz-lecture #mmviz-violations div, .mmviz-lecture #mmviz-violations span { font-size: 18px !important; }
.mmviz-lecture .mmviz-grid { display: block; }
.mmviz-lecture .mmviz-views { display: flex; gap: 3px; margin: 0; font-size: 16px; }
.mmviz-lecture .mmviz-views button { font: inherit; padding: 1px 12px; border: 1px solid #888;
  border-radius: 5px 5px 0 0; background: #f0f0f0; cursor: pointer; }
.mmviz-lecture .mmviz-views button[aria-selected="true"] { background: #fff; border-bottom-color: #fff;
  font-weight: bold; }
.mmviz-lecture .mmviz-pane { margin: 0 !important; border: 0; padding: 0; }
.mmviz-lecture .mmviz-pane > h2 { display: none; }
.mmviz-lecture .mmviz-pane[data-view]:not(.mmviz-shown) { display: none; }
.mmviz-lecture .mmviz-pane img { width: auto; max-width: 100%; margin: 0 auto; }
.mmviz-lecture #mmviz-layout-caption { font-size: 18px; }
.mmviz-lecture #mmviz-source { max-height: 470px; font-size: 18px; }
.mmviz-lecture #mmviz-source pre, .mmviz-lecture #mmviz-source pre span { font-size: 18px !important; }
.mmviz-lecture #mmviz-source div, .mmviz-lecture #mmviz-source code { font-size: 18px !important; }
.mmviz-lecture #mmviz-callgraph { max-height: 470px; }
.mmviz-lecture #mmviz-text pre { font-size: 18px; }
"""

_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("mmviz-data").textContent);
  var N = D.steps.length, S = D.strings;
  var cur = -1, timer = null;
  var $ = function (id) { return document.getElementById(id); };
  var slider = $("mmviz-step"), img = document.querySelector("#mmviz-layout img");
  var cursor = $("mmviz-cursor"), narr = $("mmviz-narration"), banner = $("mmviz-violations");
  var counter = $("mmviz-counter"), srcPane = $("mmviz-source"), cg = $("mmviz-callgraph");
  var marks = $("mmviz-marks");
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
    slider.setAttribute("aria-valuetext", s.label);
    counter.textContent = s.label;
    var lay = D.layouts[s.layout];
    if (img.getAttribute("src") !== lay.src) { img.setAttribute("src", lay.src); }
    img.setAttribute("alt", lay.alt);
    img.setAttribute("data-frame", String(s.layout));
    $("mmviz-layout-caption").textContent = S[s.caption];
    cursor.style.left = s.cursor + "%";
    cursor.setAttribute("data-seq", String(s.seq));
    narr.className = s.kind === "violation" ? "mmviz-is-violation" : (s.kind === "error" ? "mmviz-is-error" : "");
    narr.innerHTML = S[s.narr];
    banner.innerHTML = S[s.banner];
    banner.hidden = !S[s.banner];
    marks.textContent = S[s.css];
    var line = $("mmviz-step-line"), strip = $("mmviz-strip");
    if (line) line.textContent = S[s.text];
    if (strip) strip.textContent = S[D.layouts[s.layout].strip];
    for (var j = 0; j < JUMPS.length; j++) {
      var k = JUMPS[j], p = $("mmviz-prev-" + k), n = $("mmviz-next-" + k);
      if (p) p.disabled = target(k, -1) === null;
      if (n) n.disabled = target(k, +1) === null;
    }
    // hooks for readers and tests; the look comes from the frame's CSS above
    clearMarks("mmviz-current");
    var node = document.getElementById("mmviz-cg-node-" + s.node);
    if (node) { node.classList.add("mmviz-current"); keepVisible(cg, node); }
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
  var JUMPS = Object.keys(D.targets || {});
  function target(kind, dir) {
    var seqs = D.targets[kind] || [];
    if (dir > 0) { for (var a = 0; a < seqs.length; a++) if (seqs[a] > cur) return seqs[a]; }
    else { for (var b = seqs.length - 1; b >= 0; b--) if (seqs[b] < cur) return seqs[b]; }
    return null;
  }
  JUMPS.forEach(function (k) {
    [[-1, "mmviz-prev-"], [1, "mmviz-next-"]].forEach(function (d) {
      var el = $(d[1] + k);
      if (el) el.addEventListener("click", function () {
        var to = target(k, d[0]); if (to !== null) { stop(); show(to); }
      });
    });
  });
  var views = document.querySelectorAll(".mmviz-views button");
  function view(name) {
    for (var v = 0; v < views.length; v++)
      views[v].setAttribute("aria-selected", views[v].dataset.view === name ? "true" : "false");
    var panes = document.querySelectorAll(".mmviz-pane[data-view]");
    for (var q = 0; q < panes.length; q++)
      panes[q].classList.toggle("mmviz-shown", panes[q].dataset.view === name);
    document.body.setAttribute("data-view", name);
    var c = cur; cur = -1; if (c >= 0) show(c);      // re-scroll the view just shown
  }
  for (var v = 0; v < views.length; v++)
    views[v].addEventListener("click", function () { view(this.dataset.view); });
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
    var to = null;
    // A presenter's clicker sends PageDown for "next": forward, also on the slider (whose
    // own PageDown would go back).
    if (e.key === "PageDown") to = cur + 1;
    else if (e.key === "PageUp") to = cur - 1;
    if (to === null) {
      if (e.target === slider) return;          // the slider moves itself with the arrow keys
      var t = e.target && e.target.tagName;
      if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT") return;
      if (e.key === "ArrowRight") to = cur + 1;
      else if (e.key === "ArrowLeft") to = cur - 1;
      else if (e.key === "Home") to = 0;
      else if (e.key === "End") to = N - 1;
      else if (views.length && /^[1-5]$/.test(e.key) && views[+e.key - 1]) {
        e.preventDefault(); view(views[+e.key - 1].dataset.view); return;
      }
    }
    if (to === null) return;
    e.preventDefault(); stop(); show(to);
  });
  if (views.length) view(document.body.dataset.view || views[0].dataset.view);
  var start = parseInt((location.hash.match(/step=(\d+)/) || [0, 0])[1], 10);
  show(start);
})();
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _script_json(obj) -> str:
    """JSON that is inert inside <script>: `<`, `>` and `&` (and U+2028/9) as \\u escapes.

    The HTML parser ends or derails a script at `</script>` or `<!--` whatever JSON means;
    a \\u escape is the one form that is still valid JSON and never markup.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch in "<>&\u2028\u2029":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


class _Strings:
    """A table of distinct strings (narration, banners, CSS recur from step to step)."""

    def __init__(self):
        self.items, self._index = [], {}

    def __call__(self, text) -> int:
        k = self._index.get(text)
        if k is None:
            k = self._index[text] = len(self.items)
            self.items.append(text)
        return k


LECTURE_SCALE = 1.75     # 8 pt text x 1.75 at 100 dpi = 19.4 px, 18 px and more on a slide
LECTURE_WIDTH_IN = 12.1  # the pictures' width on a 1280 px slide (1210 px, shown 1:1)
VIEWS = (("layout", "address space"), ("timeline", "lock timeline"), ("source", "source"),
         ("callgraph", "call graph"), ("text", "text"))
JUMP_WORDS = (("hook", "hook"), ("lock", "lock"), ("vma", "vma"), ("error", "error"),
              ("violation", "violation"))


LECTURE_PICTURE_IN = 3.6  # the pictures' height: what a slide leaves under the narration


def lecture_builder(trace, max_height=LECTURE_PICTURE_IN):
    """The frame builder of a lecture-room page: full slide width, presentation fonts."""
    from .frame import FrameBuilder
    return FrameBuilder(trace, width=LECTURE_WIDTH_IN, scale=LECTURE_SCALE,
                        max_height=max_height, callstack=False)


def page_data(trace, builder=None) -> dict:
    """What the page's script steps through: one entry per event, built from the frames of
    `builder` (a FrameBuilder; a compact one by default), plus what the frames share."""
    from .frame import FrameBuilder
    b = builder or FrameBuilder(trace, width=9.0, compact=True, callstack=False)
    strings, steps, layouts = _Strings(), [], {}
    frames = [b.frame(i) for i in range(len(trace.events))] or [b.frame(-1)]
    for f in frames:
        if f.layout_key not in layouts:
            layouts[f.layout_key] = {"src": _data_uri(f.layout_png), "alt": f.layout_alt,
                                     "strip": strings(f.strip)}
        steps.append(_step(f, strings))
    order = sorted(layouts)
    renumber = {k: n for n, k in enumerate(order)}
    for s in steps:
        s["layout"] = renumber[s["layout"]]
    return {"palette": b.palette, "steps": steps, "layouts": [layouts[k] for k in order],
            "strings": strings.items, "timeline": dict(b.timeline.box),
            "targets": {k: list(b.targets.get(k, ())) for k, _ in JUMP_WORDS}}


def _step(f, strings) -> dict:
    return {"seq": max(f.index, 0), "kind": f.kind or "", "fn": f.fn or "", "step": f.step or "",
            "label": f.label, "msg": f.sentence, "locks": list(f.locks),
            "changed": sorted(f.changed), "layout": f.layout_key,
            "cursor": round(f.timeline_left, 3) if f.cursor is not None else -100,
            "node": f.callgraph_node, "src": f.source_block, "line": f.source_line,
            "where": f.source_where, "narr": strings(f.narration_html),
            "caption": strings(f.layout_caption),
            "banner": strings(f.banner_html),
            "text": strings(f.transcript_line),
            "css": strings(f.callgraph_css + "\n" + f.source_css)}


def stepper_html(trace, *, title=None, builder=None, lecture=False, view="layout") -> str:
    """A complete, self-contained HTML document that steps through `trace` offline.

    lecture: the lecture-room layout (one view at a time, presentation fonts; see the module
    docstring); view: the view it opens on (layout, timeline, source, callgraph, text)."""
    from .frame import FrameBuilder
    if view not in dict(VIEWS):
        from ..model.errors import InputError
        raise InputError(f"unknown view {view!r}; choose one of " + ", ".join(dict(VIEWS)))
    b = builder or (lecture_builder(trace) if lecture else
                    FrameBuilder(trace, width=9.0, compact=True, callstack=False))
    data = page_data(trace, b)
    first = data["steps"][0]
    blocks = b.source_blocks()
    return _page(trace, title, data, first, b, blocks,
                 data["strings"][first["narr"]], data["strings"][first["banner"]],
                 lecture, view)


def _results_text(trace) -> str:
    """What the call returned; in a race, what each task's call returned."""
    if not trace.tasks:
        return _ret_text(trace.result)
    from .text import _ret_of
    return ", ".join(f"{trace.task_label(pid)} {_ret_of(r)}" for pid, r in trace.task_results)


def _page(trace, title, data, first, b, blocks, narration, banner, lecture=False,
          view="layout") -> str:
    timeline, cg_svg = b.timeline, b.callgraph_svg
    esc = html.escape
    n = len(trace.events)
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    nviol = len(trace.violations)
    vsum = (f"{nviol} lock violation{'s' if nviol != 1 else ''} (event "
            f"{', '.join(str(v.seq) for v in trace.violations)})" if nviol else "no lock violations")
    lay = data["layouts"][first["layout"]]
    src_blocks = "\n".join(f'<div class="mmviz-src-block" hidden>{x}</div>' for x in blocks)
    head = _HEAD.format(scenario=esc(trace.scenario), kernel=esc(trace.kernel),
                        css=_CSS + (_LECTURE_CSS if lecture else ""),
                        palette=esc(data["palette"]),
                        body=(f' class="mmviz-lecture" data-view="{esc(view)}"'
                              if lecture else ""))
    strings = data["strings"]
    views = ("" if not lecture else
             '<div class="mmviz-views" role="tablist" aria-label="What to show">'
             + "".join(f'<button type="button" role="tab" data-view="{k}" id="mmviz-view-{k}" '
                       f'title="{esc(w)} (key {n})">{esc(w)}</button>'
                       for n, (k, w) in enumerate(VIEWS, 1)) + "</div>")
    dv = (lambda k: f' data-view="{k}"') if lecture else (lambda k: "")
    cg_style = (f' style="--mmviz-cg-zoom:{_cg_zoom(cg_svg):.3f}"' if lecture else
                ' style="margin-top:14px"')
    cg_svg_shown = _zoom_svg(cg_svg, _cg_zoom(cg_svg)) if lecture else cg_svg
    text_pane = (f'<section class="mmviz-pane" id="mmviz-text"{dv("text")} '
                 'aria-label="This step as text"><h2>This step as text</h2>'
                 f'<pre id="mmviz-step-line">{esc(strings[first["text"]])}</pre>'
                 f'<pre id="mmviz-strip">{esc(strings[lay["strip"]])}</pre></section>')
    return head + f"""<header>
<h1>{esc(title or trace.title)}</h1>
<p class="mmviz-sub">scenario <code>{esc(trace.scenario)}</code> · kernel <b>{esc(trace.kernel)}</b> ({mode}) ·
{n} event{'s' if n != 1 else ''} · result: <b>{esc(_results_text(trace))}</b> · {esc(vsum)}</p>
<p class="mmviz-desc">{esc(trace.description)}</p>
</header>
{_controls(n)}
<div class="mmviz-bar">{_jumps(data["targets"])}{views}</div>
<div id="mmviz-words">
<div id="mmviz-violations" role="alert"{'' if banner else ' hidden'}>{banner}</div>
<div id="mmviz-narration" aria-live="polite" aria-atomic="true">{narration}</div>
</div>
<noscript><p>This page needs JavaScript to step; the text transcript at the bottom has every step.</p></noscript>
<main class="mmviz-grid">
<div>
<section class="mmviz-pane" id="mmviz-layout"{dv("layout")} aria-label="Address space layout">
<h2>Address space</h2>
<p id="mmviz-layout-caption">{esc(strings[first["caption"]])}</p>
<img src="{lay['src']}" alt="{esc(lay['alt'])}" data-frame="{first['layout']}" data-min-font-px="{b.layout_min_font_px}">
</section>
<section class="mmviz-pane" id="mmviz-timeline"{dv("timeline")} aria-label="Lock timeline" style="margin-top:14px">
<h2>Locks held over time</h2>
<div id="mmviz-timeline-box">
<img src="{_data_uri(timeline.png)}" alt="{esc(timeline.alt)}" data-min-font-px="{timeline.min_font_px}">
<div id="mmviz-cursor" style="top:{timeline.cursor_top:.3f}%; height:{timeline.cursor_height:.3f}%; left:{first['cursor']}%"></div>
</div>
</section>
{text_pane if not lecture else ""}
</div>
<section class="mmviz-pane" id="mmviz-source"{dv("source")} aria-label="Model source of the current function">
<h2>Source</h2>
{src_blocks}
</section>
{text_pane if lecture else ""}
<section class="mmviz-pane" id="mmviz-callgraph"{dv("callgraph")} aria-label="Call graph"{cg_style}>
<h2>Call graph</h2>
{cg_svg_shown}
</section>
</main>
<details>
<summary>Text transcript (every step, for screen readers and copying)</summary>
<pre>{esc(transcript(trace))}</pre>
</details>
<script type="application/json" id="mmviz-data">{_script_json(data)}</script>
<script>{_JS}</script>
</body>
</html>
"""


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="mmviz-palette" content="{palette}">
<link rel="icon" href="data:,">
<title>mmviz — {scenario} ({kernel})</title>
<style>{css}</style>
<style id="mmviz-marks"></style>
</head>
<body data-step="0" data-scenario="{scenario}" data-kernel="{kernel}"{body}>
"""


def _controls(n) -> str:
    last = max(n - 1, 0)
    return f"""<nav class="mmviz-controls" role="toolbar" aria-label="Step through the trace">
<button type="button" id="mmviz-first" aria-label="First step" title="First step (Home)">|&#9664;</button>
<button type="button" id="mmviz-prev" aria-label="Previous step" title="Previous step (Left arrow)">&#9664;</button>
<button type="button" id="mmviz-play" aria-label="Play" aria-pressed="false" title="Play / pause">&#9654; Play</button>
<button type="button" id="mmviz-next" aria-label="Next step" title="Next step (Right arrow)">&#9654;</button>
<button type="button" id="mmviz-last" aria-label="Last step" title="Last step (End)">&#9654;|</button>
<input type="range" id="mmviz-step" min="0" max="{last}" value="0" step="1" aria-label="Event number">
<output id="mmviz-counter" for="mmviz-step" aria-live="off">event 0 / {last}</output>
<span class="mmviz-keys">keys: ← → or PageDown / PageUp step · Home / End</span>
</nav>"""


def _jumps(targets) -> str:
    """The widget's jump buttons: previous / next event of each kind (disabled when none)."""
    why = {"hook": "a driver hook is called", "lock": "the set of held locks changes",
           "vma": "a VMA is created, changed or removed",
           "error": "an error is born", "violation": "the lock checker reports a broken rule"}
    parts = []
    for k, word in JUMP_WORDS:
        dis = "" if targets.get(k) else " disabled"
        parts.append(
            f'<span class="mmviz-jump"><button type="button" id="mmviz-prev-{k}"{dis} '
            f'aria-label="previous {word}" title="previous event where {why[k]}">&#9664;</button>'
            f'{word}<button type="button" id="mmviz-next-{k}"{dis} aria-label="next {word}" '
            f'title="next event where {why[k]}">&#9654;</button></span>')
    return ('<nav class="mmviz-jumps" aria-label="Jump to the previous or next event of a kind">'
            "jump: " + "".join(parts) + "</nav>")


def _cg_zoom(svg) -> float:
    """How much the call graph is enlarged in the lecture layout: its 10 pt labels to 19 px."""
    import re
    sizes = [float(x) for x in re.findall(r'font-size="([\d.]+)"', svg)] or [10.0]
    return max(1.0, 19.0 / (min(sizes) * 4 / 3))


def _zoom_svg(svg, k) -> str:
    """The SVG drawn k times larger (its width and height attributes; the viewBox stays)."""
    import re

    def grow(m):
        unit = m.group(3) or ""
        px = float(m.group(2)) * (4 / 3 if unit == "pt" else 1) * k
        return f'{m.group(1)}="{px:.0f}px"'
    head, sep, rest = svg.partition(">")
    head = re.sub(r'\b(width|height)="([\d.]+)(pt|px)?"', grow, head, count=2)
    return head + sep + rest
