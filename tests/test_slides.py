"""`mmviz slides`: every lesson as a reveal.js deck that works with the network cut off.

The decks are built once per test session (`mmviz.cli.slides.build`, PDFs included; npm's
install is cached in the user's cache folder, see npm_cache_dir), then opened in the system Chromium with every
request that is not a file of the build folder aborted and recorded.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _why_not() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    from mmviz.cli.slides import npm_cache_dir
    if shutil.which("npm") is None and not (npm_cache_dir() / ".installed").exists():
        return "npm is needed once to install the decks' JavaScript"
    return None


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    why = _why_not()
    if why:
        pytest.skip(why)
    from mmviz.cli.slides import build
    out = tmp_path_factory.mktemp("slides")
    result = build(out, pdf=True, log=lambda *a, **k: None)
    return out, result


@pytest.fixture(scope="module")
def browser(built):
    # Module scope: a sync Playwright left running would stop other modules starting theirs.
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def offline_page(browser, built):
    """A page where only files of the build folder load; every other request is aborted
    and kept in page.remote (also requests that never reach the router, via on-request)."""
    out = built[0].resolve()
    allowed = out.as_uri()
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    remote, errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith(allowed + "/") or url.startswith("data:"):
            r.continue_()
        else:
            remote.append(url)
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.on("request", lambda req: req.url.startswith(("http:", "https:", "ws:", "wss:"))
            and remote.append(req.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.remote, page.errors = remote, errors
    yield page
    ctx.close()


def test_every_lesson_has_a_deck_a_pdf_and_an_index(built):
    out, result = built
    assert [d.name for d in result["decks"]] == [f"{n}.slides.html" for n in LESSONS]
    for n in LESSONS:
        pdf = out / f"{n}.pdf"
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 20_000, pdf
    index = (out / "index.html").read_text()
    assert all(f'href="{n}.slides.html"' in index and f'href="{n}.pdf"' in index for n in LESSONS)


@pytest.mark.parametrize("name", LESSONS)
def test_deck_loads_nothing_remote_and_everything_it_names_is_there(built, name):
    out = built[0]
    html = (out / f"{name}.slides.html").read_text(encoding="utf-8")
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=[\"']([^\"']+)", html)
    assert tags, "no assets referenced at all?"
    for url in tags:
        assert not re.match(r"(https?:)?//", url), url
        if not url.startswith(("data:", "#")):
            assert (out / url).is_file(), f"{url} is missing next to the deck"
    assert 'srcdoc="' in html or name.startswith("01"), "the lesson's stepper is not embedded"


@pytest.mark.parametrize("name", LESSONS)
def test_deck_shows_its_slides_offline(offline_page, built, name):
    page = offline_page
    page.goto((built[0] / f"{name}.slides.html").resolve().as_uri())
    page.wait_for_selector(".reveal.ready", state="attached", timeout=30000)
    n = page.evaluate("document.querySelectorAll('.reveal .slides > section').length")
    assert n >= 3 and page.evaluate("Reveal.getTotalSlides()") >= 8
    for h in range(n):
        page.evaluate(f"location.hash = '#/{h}'")
        page.wait_for_function(f"Reveal.getIndices().h === {h}", timeout=5000)
        assert page.is_visible("section.present")
    title = page.evaluate("document.querySelector('.reveal .slides section h1').textContent")
    assert title.startswith(name[:2])
    assert page.remote == [], page.remote
    assert page.errors == [], page.errors


def _wait_for_step(frame, step, timeout=5.0):
    """Poll the stepper's data-step from outside: its page's CSP forbids the eval that
    Frame.wait_for_function needs once a first check fails (a slow machine)."""
    import time
    deadline = time.monotonic() + timeout
    while frame.get_attribute("body", "data-step") != step:
        assert time.monotonic() < deadline, f"the stepper never reached step {step}"
        time.sleep(0.05)


@pytest.mark.parametrize("name", [n for n in LESSONS if not n.startswith("01")])
def test_stepper_steps_inside_a_slide(offline_page, built, name):
    page = offline_page
    page.goto((built[0] / f"{name}.slides.html").resolve().as_uri())
    page.wait_for_selector(".reveal.ready", state="attached", timeout=30000)
    h = page.evaluate("""() => {
        const f = document.querySelector('iframe.mmviz-stepper');
        let s = f.closest('section'); while (s.parentElement.closest('section'))
            s = s.parentElement.closest('section');
        return Array.from(document.querySelectorAll('.reveal .slides > section')).indexOf(s);
    }""")
    v = page.evaluate("""() => {
        const f = document.querySelector('iframe.mmviz-stepper');
        const inner = f.closest('section'); const outer = inner.parentElement.closest('section');
        return outer ? Array.from(outer.querySelectorAll(':scope > section')).indexOf(inner) : 0;
    }""")
    page.evaluate(f"location.hash = '#/{h}/{v}'")
    page.wait_for_function(f"Reveal.getIndices().h === {h}", timeout=5000)
    frame = page.query_selector("iframe.mmviz-stepper").content_frame()
    frame.wait_for_selector("#mmviz-next")
    before = frame.inner_text("#mmviz-counter")
    unit = "row" if before.startswith("row") else "event"       # a Compare page steps rows
    assert before.startswith(f"{unit} 0 /")
    frame.click("#mmviz-next")
    frame.click("#mmviz-next")
    _wait_for_step(frame, "2")
    assert frame.inner_text("#mmviz-counter").startswith(f"{unit} 2 /")
    frame.click("#mmviz-prev")
    _wait_for_step(frame, "1")
    assert page.remote == [], page.remote
    assert page.errors == [], page.errors


# --- the lecture room: 1280x720, no picture text under 18 px, handouts of key frames ---------

_PICTURE_TEXT = """() => {
  // The smallest text of every picture shown now, in CSS px of the 1280x720 viewport: an
  // image's own smallest text (data-min-font-px, in image pixels) times its shown scale; an
  // inline SVG's <text> by its rendered height; the source pane's code by its font size.
  const out = [];
  const scaleOf = f => f ? f.getBoundingClientRect().width / f.offsetWidth : 1;
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 2 && r.height > 2; };
  const docs = [[document, null]];
  document.querySelectorAll('section.present iframe').forEach(f => {
    if (f.contentDocument && visible(f)) docs.push([f.contentDocument, f]); });
  for (const [doc, frame] of docs) {
    const k = scaleOf(frame);
    const views = frame ? Array.from(doc.querySelectorAll('.mmviz-views button')) : [];
    const rounds = views.length ? views : [null];
    for (const v of rounds) {
      if (v) v.click();
      doc.querySelectorAll('img').forEach(img => {
        if (!visible(img) || !img.naturalWidth) return;
        if (!frame && !img.closest('section.present')) return;
        const px = parseFloat(img.dataset.minFontPx || 'NaN');
        out.push({what: 'img ' + (img.alt || '').slice(0, 30), view: v ? v.dataset.view : '',
                  px: px * img.getBoundingClientRect().width * k / img.naturalWidth});
      });
      doc.querySelectorAll('svg text').forEach(t => {
        if (!visible(t)) return;
        const fs = parseFloat(t.getAttribute('font-size') || '0');
        const m = t.getScreenCTM();
        if (fs && m) out.push({what: 'svg ' + t.textContent.slice(0, 20),
                               view: v ? v.dataset.view : '', px: fs * Math.abs(m.a) * k});
      });
      doc.querySelectorAll('#mmviz-source pre').forEach(pre => {
        if (!visible(pre)) return;
        out.push({what: 'source', view: v ? v.dataset.view : '',
                  px: parseFloat(getComputedStyle(pre).fontSize) * k});
      });
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def slide_page(browser, built):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.mark.parametrize("name", LESSONS)
def test_no_text_in_a_decks_pictures_is_under_18px_at_1280x720(slide_page, built, name):
    page = slide_page
    page.goto((built[0] / f"{name}.slides.html").resolve().as_uri())
    page.wait_for_selector(".reveal.ready", state="attached", timeout=30000)
    slides = page.evaluate("""() => Reveal.getSlides().map((s, i) => [Reveal.getIndices(s),
        !!s.querySelector('iframe.mmviz-stepper, img')]).filter(x => x[1]).map(x => x[0])""")
    measured = []
    for ix in slides:
        page.evaluate(f"Reveal.slide({ix['h']}, {ix.get('v') or 0})")
        page.wait_for_timeout(400)
        page.wait_for_function("Array.from(document.querySelectorAll('section.present iframe'))"
                               ".every(f => f.contentDocument && f.contentDocument.readyState"
                               " === 'complete')", timeout=30000)
        measured += page.evaluate(_PICTURE_TEXT)
    assert measured or name.startswith(("00",)), "no pictures measured"
    small = [m for m in measured if not m["px"] >= 18.0]          # NaN (unsaid) fails too
    assert not small, small[:6]
    if os.environ.get("MMVIZ_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["MMVIZ_SCREENSHOTS"], f"deck-{name}.png"))


def _pdf_text(pdf):
    import subprocess
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("name", ["06-the-rmap-lock-and-hiding", "07-anatomy-of-a-fix"])
def test_the_handout_prints_the_key_frames_not_event_0(built, name):
    from mmviz.scenarios import record
    from mmviz.trace.query import key_frames
    text = re.sub(r"\s+", " ", _pdf_text(built[0] / f"{name}.pdf"))
    traces = {"06-the-rmap-lock-and-hiding": [record("mapped-fail-hidden", kernel="v4")],
              "07-anatomy-of-a-fix": [record("action-fail-hidden", kernel="baseline"),
                                      record("mapped-fail-hidden", kernel="v3")]}[name]
    for t in traces:
        n = len(t.events) - 1
        for k, seq in enumerate(key_frames(t), 1):
            assert f"event {seq} / {n}" in text, (t.scenario, t.kernel, seq)
        assert "Key frame 1 of" in text and "the end" in text
    assert "event 0 / " not in text                  # no stepper frozen at its first event


def test_speaker_notes_are_in_the_speaker_view_only(built):
    html = (built[0] / "06-the-rmap-lock-and-hiding.slides.html").read_text(encoding="utf-8")
    notes = re.findall(r'<aside class="notes">(.*?)</aside>', html, re.S)
    assert notes and all("Speaker notes" in n for n in notes)
    outside = re.sub(r'<aside class="notes">.*?</aside>', "", html, flags=re.S)
    assert "The per-VMA lock has no unlock" not in outside
