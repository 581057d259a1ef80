"""Every view of a trace shows the same thing: the notebook's Stepper widget, the offline
HTML stepper (`mmviz export`) and the slides (`mmviz.lessons.stepper_iframe`, which embeds
the offline stepper) must show the same narration, banner, step label, changed VMAs, call
graph node, source line and palette at every event.

Each view is read as a reader would get it: the widget's pane values and the Frame it
applied; the page's embedded data (what its script puts on screen); the slide's iframe
document, unescaped from its srcdoc.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from mmviz.render.palette import palette_id
from mmviz.scenarios import record

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

TRACES = [("mapped-fail-hidden", "v3"), ("fixed-replace", "v4"),
          ("action-fail-hidden", "baseline"), ("anon-merge-both", "v4")]


def page_data(doc: str) -> dict:
    m = re.search(r'<script type="application/json" id="mmviz-data">(.*?)</script>', doc, re.S)
    data = json.loads(m.group(1))
    meta = re.search(r'<meta name="mmviz-palette" content="([^"]+)">', doc).group(1)
    data["meta_palette"] = meta
    return data


def widget_views(trace) -> list:
    """What the Stepper shows at every event (its panes, and the frame behind them)."""
    from mmviz.widgets import Stepper
    s = Stepper(trace, prerender=False)
    out = []
    try:
        for i in range(len(trace.events)):
            s.index = i
            f = s.frame
            out.append({"narration": s.panes["narration"].value,
                        "banner": s.panes["banner"].value, "label": f.label,
                        "changed": sorted(f.changed), "node": f.callgraph_node,
                        "line": f.source_line, "palette": f.palette,
                        "marks": s.panes["marks"].value})
    finally:
        s.close()
    return out


def disagreements(widget, data) -> list:
    """Every (event, what) where the page's data differs from the widget's view."""
    out = []
    S = data["strings"]
    if len(widget) != len(data["steps"]):
        return [(-1, f"{len(widget)} events in the widget, {len(data['steps'])} on the page")]
    for i, (w, p) in enumerate(zip(widget, data["steps"])):
        for what, a, b in (("narration", w["narration"], S[p["narr"]]),
                           ("banner", w["banner"], S[p["banner"]]),
                           ("step label", w["label"], p["label"]),
                           ("changed VMAs", w["changed"], p["changed"]),
                           ("call graph node", w["node"], p["node"]),
                           ("source line", w["line"], p["line"]),
                           ("palette", w["palette"], data["palette"]),
                           ("palette", w["palette"], data["meta_palette"])):
            if a != b:
                out.append((i, what))
        node_mark = f"#mmviz-cg-node-{w['node']} "
        if w["node"] is not None and (node_mark not in w["marks"] or node_mark not in S[p["css"]]):
            out.append((i, "call graph mark"))
    return out


@pytest.fixture(scope="module", params=TRACES, ids=lambda p: f"{p[0]}-{p[1]}")
def views(request):
    from mmviz.lessons import stepper_iframe
    from mmviz.render.stepper_html import stepper_html
    name, kernel = request.param
    t = record(name, kernel=kernel)
    page = page_data(stepper_html(t))
    markup = stepper_iframe(t)
    slide = page_data(html.unescape(markup.split('srcdoc="', 1)[1].rsplit('"></iframe>', 1)[0]))
    return t, widget_views(t), page, slide


def test_the_widget_and_the_exported_page_agree_at_every_event(views):
    t, widget, page, _ = views
    assert disagreements(widget, page) == []
    assert any(w["changed"] for w in widget), "a trace that changes nothing proves little"


def test_the_widget_and_the_slide_agree_at_every_event(views):
    t, widget, _, slide = views
    assert disagreements(widget, slide) == []


def test_every_view_uses_the_one_palette(views):
    t, widget, page, slide = views
    assert {w["palette"] for w in widget} == {palette_id()}
    assert page["palette"] == slide["palette"] == palette_id()


def test_the_narration_is_narration_py_s(views):
    from mmviz.render.narration import sentence
    t, widget, page, _ = views
    for i, e in enumerate(t.events):
        text = html.escape(sentence(e, t.kernel), quote=True)
        assert text in widget[i]["narration"]
        assert page["steps"][i]["msg"] == sentence(e, t.kernel)


def test_the_checker_sees_a_disagreement(views):
    """The comparison can fail: tamper with the page's data and it is reported."""
    t, widget, page, _ = views
    bad = json.loads(json.dumps(page))
    k = next(i for i, w in enumerate(widget) if w["changed"])
    bad["steps"][k]["changed"] = []
    bad["strings"].append("<i>another sentence</i>")
    bad["steps"][0]["narr"] = len(bad["strings"]) - 1
    bad["palette"] = "0" * 12
    found = disagreements(widget, bad)
    assert (k, "changed VMAs") in found and (0, "narration") in found
    assert (0, "palette") in found


def test_compare_sides_are_the_stepper_frames():
    """Compare's two sides show the frames a Stepper shows for the same events."""
    from mmviz.render.frame import FrameBuilder
    from mmviz.widgets import Compare
    a, b = record("mapped-fail-hidden", kernel="v3"), record("mapped-fail-hidden", kernel="v4")
    c = Compare(a, b, prerender=False)
    try:
        fa, fb = FrameBuilder(a), FrameBuilder(b)
        for k, row in enumerate(c.rows):
            if row.a is None or row.b is None:
                continue
            c.index = k
            assert c.panes["narration_a"].value == fa.frame(row.a).narration_html
            assert c.panes["narration_b"].value == fb.frame(row.b).narration_html
            assert c._store.get(k).sides[0][0].changed == fa.frame(row.a).changed
    finally:
        c.close()
