"""Measure what a lecturer and a laptop user see: pane positions, picture text sizes, handouts.

    python tools/measure_views.py lab     OUT   # Stepper/Compare in JupyterLab at 1440x900
    python tools/measure_views.py slides  OUT   # decks at 1280x720: smallest picture text
    python tools/measure_views.py all     OUT

Prints the figures (CSS pixels) and saves the screenshots it measured under OUT. It is the
same measuring as the browser tests (tests/test_widgets_browser.py, tests/test_slides.py),
kept as a tool so the numbers can be printed before and after a change of the views.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

STEPPER = ("from mmviz.scenarios import record\nfrom mmviz.widgets import Stepper, Compare\n"
           "stepper = Stepper(record('mapped-fail-hidden', kernel='v3'))\nstepper")
COMPARE = ("from mmviz.scenarios import record\nfrom mmviz.widgets import Compare\n"
           "c = Compare(record('mapped-fail-hidden', kernel='v3'),\n"
           "            record('mapped-fail-hidden', kernel='v4'))\nc")
PANES = {
    "controls": ".mmviz-step-slider",
    "words": ".mmviz-words",
    "narration": ".mmviz-narration",
    "banner": ".mmviz-banner",
    "layout": "img.mmviz-layout",
    "timeline": "img.mmviz-timeline",
    "source": ".mmviz-source",
    "callgraph": ".mmviz-callgraph",
}


def _box(loc):
    if loc.count() == 0:
        return None
    b = loc.first.bounding_box()
    return None if b is None else {k: round(v) for k, v in b.items()}


def measure_lab(out: Path) -> dict:
    from labserver import LabServer, launch_chromium, run_all, write_notebook
    from playwright.sync_api import sync_playwright
    server = LabServer()
    write_notebook(server.root / "stepper.ipynb", [STEPPER])
    write_notebook(server.root / "compare.ipynb", [COMPARE])
    server.start()
    result = {}
    try:
        with sync_playwright() as p:
            b = launch_chromium(p)
            ctx = b.new_context(viewport={"width": 1440, "height": 900})
            page = ctx.new_page()
            page.set_default_timeout(60000)
            run_all(page, server, "stepper.ipynb")
            st = page.locator(".mmviz-stepper").first
            page.wait_for_selector(".mmviz-stepper img.mmviz-timeline")
            st.locator(".mmviz-next-violation").click()
            page.wait_for_timeout(1500)
            st.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            panel = page.locator(".jp-WindowedPanel-outer, .jp-Notebook").first
            result["notebook_panel"] = _box(panel)
            result["stepper"] = _box(st)
            result["panes"] = {name: _box(st.locator(sel)) for name, sel in PANES.items()}
            cg = st.locator(".mmviz-callgraph svg")
            if cg.count():
                result["callgraph_svg"] = _box(cg)
            result["label"] = st.locator(".mmviz-step-label").first.inner_text()
            page.screenshot(path=str(out / "lab-stepper-violation-1440x900.png"))
            # PageDown on the slider handle: which way does it go?
            st.locator(".mmviz-step-slider .noUi-handle").focus()
            before = st.locator(".mmviz-step-label").first.inner_text()
            page.keyboard.press("PageDown")
            page.wait_for_timeout(800)
            result["pagedown_on_slider"] = [before, st.locator(".mmviz-step-label").first
                                            .inner_text()]
            server.shutdown_sessions("stepper.ipynb")

            run_all(page, server, "compare.ipynb")
            page.wait_for_selector(".mmviz-compare img.mmviz-layout-b")
            cl = page.locator(".mmviz-compare").first
            for _ in range(12):
                if "violation" in cl.locator(".mmviz-step-label").first.inner_text():
                    break
                cl.locator(".mmviz-next-diff").click()
                page.wait_for_timeout(400)
            cl.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            curs = cl.locator(".mmviz-cursor")
            result["compare_cursors_x"] = [round(curs.nth(i).bounding_box()["x"])
                                           for i in range(curs.count())
                                           if curs.nth(i).bounding_box()]
            tls = cl.locator("img[class*='mmviz-timeline']")
            result["compare_timelines"] = [_box(tls.nth(i)) for i in range(tls.count())]
            page.screenshot(path=str(out / "lab-compare-violation-1440x900.png"), full_page=False)
            server.shutdown_sessions("compare.ipynb")
            b.close()
    finally:
        server.stop()
    return result


_PICTURE_FONTS = """() => {
  const out = [];
  const frameFactor = f => f ? f.getBoundingClientRect().width / f.offsetWidth : 1;
  const docs = [[document, null]];
  document.querySelectorAll('section.present iframe').forEach(f => {
    if (f.contentDocument) docs.push([f.contentDocument, f]);
  });
  for (const [doc, frame] of docs) {
    const k = frameFactor(frame);
    doc.querySelectorAll('img').forEach(img => {
      const r = img.getBoundingClientRect();
      if (!r.width || !img.naturalWidth) return;
      if (frame === null && !img.closest('section.present')) return;
      out.push({where: frame ? 'iframe' : 'slide', frame: frame ? frame.title : '', id: img.closest('[id]') ?
                img.closest('[id]').id : '', alt: (img.alt || '').slice(0, 40),
                minFontPx: img.dataset.minFontPx ? parseFloat(img.dataset.minFontPx) : null,
                natural: img.naturalWidth, shown: r.width * k});
    });
  }
  return out;
}"""


def figure_min_font_px(fig, dpi) -> float:
    """The smallest visible text of a matplotlib figure, in pixels of an image saved at dpi."""
    from matplotlib.text import Text
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes) * dpi / 72 if sizes else 0.0


def offline_stepper_min_fonts(trace) -> dict:
    """For pages that do not say it (views from before they did): the smallest text of the
    offline stepper's layout and timeline pictures (width 9 in, 150 dpi, scale 1)."""
    from mmviz.render.layout import layout_figure
    from mmviz.render.timeline import default_size, timeline_figure
    tl = timeline_figure(trace, figsize=default_size(trace, width=9.0))
    lay = layout_figure(trace.final, figsize=(9.0, 2.46))
    return {"timeline": figure_min_font_px(tl, 150), "layout": figure_min_font_px(lay, 150)}


_TRACE_FONTS: dict = {}


def _fill_min_font(g):
    """The picture's smallest text as shown: its own figure, or computed for old pages."""
    px = g.get("minFontPx")
    if px is None and g.get("frame", "").startswith("stepper: "):
        m = re.match(r"stepper: (\S+) \((\w+)\)", g["frame"])
        if m:
            key = m.groups()
            if key not in _TRACE_FONTS:
                from mmviz.scenarios import record
                _TRACE_FONTS[key] = offline_stepper_min_fonts(record(key[0], kernel=key[1]))
            fonts = _TRACE_FONTS[key]
            px = fonts["timeline"] if g["alt"].startswith("Lock timeline") else fonts["layout"]
            g["minFontPx"] = round(px, 2)
            g["computed"] = True
    if px is not None:
        g["textPx"] = round(px * g["shown"] / g["natural"], 2)


def measure_slides(out: Path, lessons=("06", "07")) -> dict:
    from playwright.sync_api import sync_playwright

    from mmviz.cli.slides import build
    deck_dir = out / "decks"
    res = build(deck_dir, only=list(lessons), pdf=True, log=lambda *a, **k: None)
    result = {"decks": {}}
    with sync_playwright() as p:
        from labserver import launch_chromium
        b = launch_chromium(p)
        ctx = b.new_context(viewport={"width": 1280, "height": 720})
        page = ctx.new_page()
        for deck in res["decks"]:
            page.goto(deck.resolve().as_uri())
            page.wait_for_selector(".reveal.ready", state="attached", timeout=30000)
            stem = deck.name.split(".")[0]
            n = page.evaluate("Reveal.getTotalSlides()")
            pictures = []
            idx = page.evaluate("""() => { const out = []; const sl = Reveal.getSlides();
                sl.forEach((s, i) => { if (s.querySelector('iframe, img'))
                out.push(Reveal.getIndices(s)); }); return out; }""")
            for k, ix in enumerate(idx):
                page.evaluate(f"Reveal.slide({ix['h']}, {ix.get('v') or 0})")
                page.wait_for_timeout(700)
                got = page.evaluate(_PICTURE_FONTS)
                for g in got:
                    g["slide"] = f"{ix['h']}/{ix.get('v') or 0}"
                pictures += got
                if k < 3:
                    page.screenshot(path=str(out / f"slide-{stem}-{ix['h']}-{ix.get('v') or 0}"
                                                   ".png"))
            for g in pictures:
                _fill_min_font(g)
            result["decks"][stem] = {"slides": n, "pictures": pictures,
                                     "smallest_text_px": min((g["textPx"] for g in pictures
                                                              if g.get("textPx")), default=None)}
        b.close()
    for pdf in res["pdfs"]:
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        result["decks"].setdefault(pdf.stem, {})["pdf_event_labels"] = sorted(
            set(re.findall(r"event \d+ / \d+", text)), key=lambda s: int(s.split()[1]))
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(out / f"pdf-{pdf.stem}")],
                       check=False)
    return result


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    what, out = argv[0], Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    report = {}
    if what in ("lab", "all"):
        report["lab"] = measure_lab(out)
    if what in ("slides", "all"):
        report["slides"] = measure_slides(out)
    text = json.dumps(report, indent=1)
    (out / "measurements.json").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    raise SystemExit(main())
