"""Two traces of one story side by side, offline: one page, one cursor over their aligned rows.

The page of `Compare` for places with no Python (the slides): a slider walks the rows of
`mmviz.trace.align`; each side shows its event's narration (or, when the row has none on
that side, its state after its last event), and ONE lock-timeline picture holds both runs on
one x axis, the aligned row, with one cursor (`timeline.compare_timeline_picture`). The two
address spaces are a second view. Frames come from `FrameBuilder`, as in every view.

Hooks: #mmviz-step (the range), #mmviz-prev / #mmviz-next, #mmviz-prev-diff /
#mmviz-next-diff, #mmviz-narration-a / -b, #mmviz-timeline img + #mmviz-cursor, #mmviz-layout-a
/ -b img; <body data-step="K"> is the row shown. Keys as in the stepper (PageDown forward).
"""

from __future__ import annotations

import html

from .stepper_html import (_CSS, _LECTURE_CSS, _Strings, _data_uri, _script_json,
                           LECTURE_SCALE, LECTURE_WIDTH_IN)

_STATUS = {"changed": "changed", "only-a": "only in A", "only-b": "only in B"}
_COMPARE_CSS = r"""
.mmviz-sides { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.mmviz-side { border-left: 5px solid var(--accent); background: #f3f8fc; padding: 2px 8px;
  height: 88px; overflow: auto; font-size: 18px; }
.mmviz-side h3 { margin: 0; font-size: 18px; }
.mmviz-side.mmviz-none { opacity: .55; }
.mmviz-side .mmviz-say, .mmviz-side div { font-size: 17px !important; }
.mmviz-side .mmviz-sentence { font-size: 19px !important; }
.mmviz-row-word { font-size: 17px; color: var(--muted); min-width: 12ch; }
.mmviz-pane img { width: auto; max-width: 100%; margin: 0 auto; display: block; }
.mmviz-key { margin: 2px 0; font-size: 17px; color: var(--muted); text-align: center; }
#mmviz-timeline-box { width: fit-content; max-width: 100%; margin: 0 auto; position: relative; }
"""

_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("mmviz-data").textContent);
  var N = D.rows.length, S = D.strings, cur = -1;
  var $ = function (id) { return document.getElementById(id); };
  var slider = $("mmviz-step");
  function side(name, r) {
    var el = $("mmviz-narration-" + name);
    el.innerHTML = S[r.narr];
    el.classList.toggle("mmviz-none", !r.here);
    var img = $("mmviz-layout-" + name), lay = D.layouts[r.layout];
    if (img.getAttribute("src") !== lay.src) img.setAttribute("src", lay.src);
    img.setAttribute("alt", lay.alt);
  }
  function show(i) {
    if (!N) return;
    i = Math.max(0, Math.min(N - 1, i));
    if (i === cur) return;
    cur = i;
    var r = D.rows[i];
    document.body.setAttribute("data-step", String(i));
    slider.value = String(i);
    $("mmviz-counter").textContent = S[r.label];
    slider.setAttribute("aria-valuetext", S[r.label]);
    side("a", r.a); side("b", r.b);
    var c = $("mmviz-cursor");
    c.style.left = r.cursor + "%"; c.setAttribute("data-row", String(i));
    $("mmviz-prev-diff").disabled = diff(-1) === null;
    $("mmviz-next-diff").disabled = diff(1) === null;
  }
  function diff(d) {
    var xs = D.diffs;
    if (d > 0) { for (var a = 0; a < xs.length; a++) if (xs[a] > cur) return xs[a]; }
    else { for (var b = xs.length - 1; b >= 0; b--) if (xs[b] < cur) return xs[b]; }
    return null;
  }
  var views = document.querySelectorAll(".mmviz-views button");
  function view(name) {
    for (var v = 0; v < views.length; v++)
      views[v].setAttribute("aria-selected", views[v].dataset.view === name ? "true" : "false");
    var panes = document.querySelectorAll(".mmviz-pane[data-view]");
    for (var q = 0; q < panes.length; q++)
      panes[q].classList.toggle("mmviz-shown", panes[q].dataset.view === name);
  }
  for (var v = 0; v < views.length; v++)
    views[v].addEventListener("click", function () { view(this.dataset.view); });
  $("mmviz-first").addEventListener("click", function () { show(0); });
  $("mmviz-prev").addEventListener("click", function () { show(cur - 1); });
  $("mmviz-next").addEventListener("click", function () { show(cur + 1); });
  $("mmviz-last").addEventListener("click", function () { show(N - 1); });
  $("mmviz-prev-diff").addEventListener("click", function () { var t = diff(-1); if (t !== null) show(t); });
  $("mmviz-next-diff").addEventListener("click", function () { var t = diff(1); if (t !== null) show(t); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var to = null;
    if (e.key === "PageDown") to = cur + 1;
    else if (e.key === "PageUp") to = cur - 1;
    else if (e.target !== slider) {
      if (e.key === "ArrowRight") to = cur + 1;
      else if (e.key === "ArrowLeft") to = cur - 1;
      else if (e.key === "Home") to = 0;
      else if (e.key === "End") to = N - 1;
      else if (/^[12]$/.test(e.key) && views[+e.key - 1]) { view(views[+e.key - 1].dataset.view); return; }
    }
    if (to === null) return;
    e.preventDefault(); show(to);
  });
  view(views.length ? views[0].dataset.view : "");
  show(0);
})();
"""


def compare_html(trace_a, trace_b, *, title=None, lecture=True) -> str:
    """A self-contained page comparing two traces row by row (lecture-room sizes by default:
    pictures at LECTURE_SCALE, smallest text at least 18 px on a 1280x720 slide)."""
    from ..trace.align import align, differences, last_at_or_before, summary
    from .frame import FrameBuilder
    from .layout_axis import axis_for
    from .narration_html import result_text
    from .timeline import compare_key, compare_timeline_picture
    rows = align(trace_a, trace_b)
    snaps = [s for t in (trace_a, trace_b) for s in [t.initial, *(e.snapshot for e in t.events),
                                                     t.final]]
    axis = axis_for(snaps)
    scale = LECTURE_SCALE if lecture else 1.0
    width = LECTURE_WIDTH_IN if lecture else 9.0
    builders = [FrameBuilder(t, width=width, scale=scale, axis=axis, legend_traces=(o,),
                             timeline=False, max_height=1.75 * scale if lecture else None,
                             callstack=False)
                for t, o in ((trace_a, trace_b), (trace_b, trace_a))]
    tl = compare_timeline_picture(trace_a, trace_b, rows, width=width, scale=scale,
                                  names=("A", "B"), max_height=4.3 if lecture else None)
    strings, layouts, out = _Strings(), {}, []

    def layout(f, bi):
        key = (bi, f.layout_key)
        if key not in layouts:
            layouts[key] = (len(layouts), {"src": _data_uri(f.layout_png), "alt": f.layout_alt})
        return layouts[key][0]

    for k, r in enumerate(rows):
        row = {"cursor": round(tl.cursor_left(k), 3),
               "label": strings(f"row {k} / {len(rows) - 1}"
                                + (f" · step {r.step}" if r.step else "")
                                + (f" · {_STATUS[r.status]}" if r.status != "same" else "")
                                + (" · violation" if r.violation else ""))}
        for bi, (name, b, here) in enumerate((("a", builders[0], r.a),
                                               ("b", builders[1], r.b))):
            seq = last_at_or_before(rows, k, name)
            f = b.frame(-1 if seq is None else seq, marked=here is not None)
            note = ("" if here is not None else
                    "<div style='color:#8a6d00;font-size:16px'>" +
                    ("not started yet" if seq is None else
                     f"no matching event: its state after event {seq}") + "</div>")
            row[name] = {"narr": strings(note + (f.banner_html if here is not None else "")
                                         + (f.narration_html if seq is not None else "")),
                         "layout": layout(f, bi), "here": here is not None}
        out.append(row)
    data = {"rows": out, "strings": strings.items, "diffs": differences(rows),
            "layouts": [v for _, v in sorted(layouts.values(), key=lambda x: x[0])]}
    sm = summary(trace_a, trace_b, rows)
    esc = html.escape
    lay_min = builders[0].layout_min_font_px
    first = out[0] if out else None
    head = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<title>mmviz — {esc(trace_a.scenario)}: {esc(trace_a.kernel)} vs "
            f"{esc(trace_b.kernel)}</title><style>{_CSS}{_LECTURE_CSS if lecture else ''}"
            f"{_COMPARE_CSS}</style></head><body data-step='0'"
            + (" class='mmviz-lecture'>" if lecture else ">"))
    lay = data["layouts"]
    la = lay[first["a"]["layout"]] if first else {"src": "", "alt": ""}
    lb = lay[first["b"]["layout"]] if first else {"src": "", "alt": ""}
    last = max(len(rows) - 1, 0)
    body = f"""<header><h1>{esc(title or trace_a.title)}</h1>
<p class="mmviz-sub">A: {esc(trace_a.kernel)} {esc(result_text(trace_a.result))} · B:
{esc(trace_b.kernel)} {esc(result_text(trace_b.result))} · {sm['rows']} aligned rows,
{sm['changed']} changed, {sm['only-a']} only in A, {sm['only-b']} only in B</p></header>
<nav class="mmviz-controls" role="toolbar" aria-label="Step through the aligned rows">
<button type="button" id="mmviz-first" aria-label="First row">|&#9664;</button>
<button type="button" id="mmviz-prev" aria-label="Previous row">&#9664;</button>
<button type="button" id="mmviz-next" aria-label="Next row">&#9654;</button>
<button type="button" id="mmviz-last" aria-label="Last row">&#9654;|</button>
<button type="button" id="mmviz-prev-diff" title="previous row that differs">&#9664; difference</button>
<button type="button" id="mmviz-next-diff" title="next row that differs">difference &#9654;</button>
<input type="range" id="mmviz-step" min="0" max="{last}" value="0" step="1" aria-label="Aligned row">
<output id="mmviz-counter" class="mmviz-row-word" for="mmviz-step">row 0 / {last}</output>
<div class="mmviz-views" role="tablist" aria-label="What to show">
<button type="button" role="tab" data-view="timeline" title="key 1">lock timelines, one axis</button>
<button type="button" role="tab" data-view="layouts" title="key 2">address spaces</button></div>
</nav>
<div class="mmviz-sides">
<div><div class="mmviz-side" id="mmviz-narration-a" aria-live="polite"></div></div>
<div><div class="mmviz-side" id="mmviz-narration-b" aria-live="polite"></div></div>
</div>
<main>
<section class="mmviz-pane" id="mmviz-timeline" data-view="timeline" aria-label="Both lock timelines on one axis">
<p class="mmviz-key">{esc(compare_key(trace_a, trace_b))}; x: the aligned row</p>
<div id="mmviz-timeline-box"><img src="{_data_uri(tl.png)}" alt="{esc(tl.alt)}" data-min-font-px="{tl.min_font_px}">
<div id="mmviz-cursor" style="top:{tl.cursor_top:.3f}%; height:{tl.cursor_height:.3f}%; left:{first['cursor'] if first else 0}%"></div></div>
</section>
<section class="mmviz-pane" id="mmviz-layouts" data-view="layouts" aria-label="The two address spaces">
<img id="mmviz-layout-a" src="{la['src']}" alt="{esc(la['alt'])}" data-min-font-px="{lay_min}">
<img id="mmviz-layout-b" src="{lb['src']}" alt="{esc(lb['alt'])}" data-min-font-px="{lay_min}">
</section>
</main>
<details><summary>Both runs as text</summary><pre>{esc(tl.text)}</pre></details>
<script type="application/json" id="mmviz-data">{_script_json(data)}</script>
<script>{_JS}</script></body></html>
"""
    for b in builders:
        b.close()
    return head + body
