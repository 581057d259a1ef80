"""The widgets in a real browser: JupyterLab 4 (and a Notebook 7 smoke test) driven by
Playwright with the system Chromium.

One JupyterLab server for the module (fresh temp dirs, a token, the settings overrides of
notes/jupyter-stack.md), stopped by its PID at the end. Each test stands alone: it gets its
own notebook (so its own kernel, shut down after it) and a fresh browser context, and runs
in any order or by itself. Set MMVIZ_SCREENSHOTS=DIR to keep screenshots of every widget.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from labserver import LabServer, browser_available, launch_chromium, run_all, write_notebook

pytestmark = pytest.mark.browser

_why = browser_available()
if _why:
    pytest.skip(_why, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from mmviz.scenarios import record  # noqa: E402

IMPORTS = ("from mmviz.scenarios import record\n"
           "from mmviz.widgets import Stepper, ScenarioBuilder, Compare")
STEPPER = "stepper = Stepper(record('mapped-fail-hidden', kernel='v3'))\nstepper"
BUILDER = "builder = ScenarioBuilder()\nbuilder"
COMPARE = ("compare = Compare(record('mapped-fail-hidden', kernel='v3'),\n"
           "                  record('mapped-fail-hidden', kernel='v4'))\ncompare")
TIMEOUT = 60_000

# Event numbers of the trace the notebook steps through, from the trace itself.
_T = record("mapped-fail-hidden", kernel="v3")
LAST = len(_T) - 1
STORED = next(e.seq for e in _T if e.what == "vma_stored")     # vma#1 enters the VMA tree
VIOLATION = _T.violations[0].seq
HOOK_BEFORE = max(e.seq for e in _T if e.kind == "hook" and e.data.get("phase") == "enter"
                  and e.seq < VIOLATION)


def _shot(locator, name):
    folder = os.environ.get("MMVIZ_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        locator.screenshot(path=os.path.join(folder, f"{name}.png"))


@pytest.fixture(scope="module")
def lab():
    server = LabServer()
    write_notebook(server.root / "nb7.ipynb", [IMPORTS, STEPPER])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def notebook(lab, browser, request):
    """open(cells, ready): a new notebook of these cells, run in its own kernel in a fresh
    browser context; returns the page once `ready` (a selector) is shown."""
    opened = []

    def open_(cells, ready):
        name = re.sub(r"\W+", "-", request.node.name) + ".ipynb"
        write_notebook(lab.root / name, cells)
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
        opened.append((ctx, name))
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT)
        run_all(page, lab, name)
        page.wait_for_selector(ready, timeout=TIMEOUT)
        return page

    yield open_
    for ctx, name in opened:
        ctx.close()
        lab.shutdown_sessions(name)


def _label(root):
    return root.locator(".mmviz-step-label").first


def test_stepper_keys_and_buttons(notebook):
    page = notebook([IMPORTS, STEPPER], ".mmviz-stepper img.mmviz-timeline")
    st = page.locator(".mmviz-stepper").first
    label, narration = _label(st), st.locator(".mmviz-narration")
    layout, timeline = st.locator("img.mmviz-layout"), st.locator("img.mmviz-timeline")
    cursor = st.locator(".mmviz-timeline-cursor .mmviz-cursor")
    expect(label).to_contain_text(f"event 0 / {LAST}")
    src0, tl0 = layout.get_attribute("src"), timeline.get_attribute("src")
    expect(cursor).to_have_attribute("data-seq", "0")
    narr0 = narration.inner_text()
    assert src0.startswith("blob:") or src0.startswith("data:")

    handle = st.locator(".mmviz-step-slider .noUi-handle")
    handle.focus()
    page.keyboard.press("ArrowRight")
    expect(label).to_contain_text(f"event 1 / {LAST}")
    expect(narration).not_to_have_text(narr0)
    expect(cursor).to_have_attribute("data-seq", "1")       # the cursor moved over the timeline
    assert timeline.get_attribute("src") == tl0              # which was drawn once
    box, line = timeline.bounding_box(), cursor.bounding_box()
    assert box["x"] < line["x"] < box["x"] + box["width"]     # the cursor is over the picture
    assert box["y"] < line["y"] < line["y"] + line["height"] < box["y"] + box["height"]
    for _ in range(STORED - 1):            # to the event where vma#1 enters the VMA tree
        page.keyboard.press("ArrowRight")
    expect(label).to_contain_text(f"event {STORED} / {LAST}")
    expect(narration).to_contain_text("stored in the VMA tree")
    expect(layout).not_to_have_attribute("src", src0)
    page.keyboard.press("ArrowLeft")
    expect(label).to_contain_text(f"event {STORED - 1} / {LAST}")

    st.locator(".mmviz-next").click()
    expect(label).to_contain_text(f"event {STORED} / {LAST}")
    st.locator(".mmviz-prev").click()
    expect(label).to_contain_text(f"event {STORED - 1} / {LAST}")
    src28 = layout.get_attribute("src")
    st.locator(".mmviz-next-violation").click()
    expect(label).to_contain_text(f"event {VIOLATION} / {LAST}")
    expect(st.locator(".mmviz-banner")).to_contain_text("unlock-not-held")
    expect(layout).not_to_have_attribute("src", src28)
    # the call graph is marked by the frame's style: the current node is filled yellow
    st.locator(".mmviz-code-tabs .lm-TabBar-tab", has_text="call graph").click()
    fill = st.locator(".mmviz-callgraph g.node path, .mmviz-callgraph g.node polygon").evaluate_all(
        "els => els.map(e => getComputedStyle(e).fill)")
    assert fill.count("rgb(240, 228, 66)") == 1, fill       # Okabe-Ito yellow, one node
    expect(st.locator(".mmviz-error")).to_be_hidden()
    _shot(st, "stepper")


def test_stepper_play_moves_the_slider_in_the_browser(notebook):
    page = notebook([IMPORTS, STEPPER], ".mmviz-stepper img.mmviz-timeline")
    st = page.locator(".mmviz-stepper").first
    expect(_label(st)).to_contain_text(f"event 0 / {LAST}")
    st.locator(".mmviz-next-violation").click()
    expect(_label(st)).to_contain_text(f"event {VIOLATION} /")
    st.locator(".mmviz-prev-hook").click()            # back to a hook
    expect(_label(st)).to_contain_text(f"event {HOOK_BEFORE} /")
    before = _label(st).inner_text()
    play = st.locator(".mmviz-play button").first      # ▶ / pause (jslinked to the slider)
    play.click()
    time.sleep(1.8)
    play.click()
    time.sleep(0.5)
    after = _label(st).inner_text()
    n_before = int(re.search(r"event (\d+)", before).group(1))
    n_after = int(re.search(r"event (\d+)", after).group(1))
    assert n_after > n_before


def test_builder_controls_run_and_refusal(notebook):
    page = notebook([IMPORTS, BUILDER], ".mmviz-builder .mmviz-run")
    bl = page.locator(".mmviz-builder")
    bl.locator(".mmviz-builder-kernel button", has_text="v3").click()
    bl.locator(".mmviz-builder-fail select").select_option("mapped")
    bl.locator(".mmviz-builder-hide input").check()
    expect(bl.locator(".mmviz-builder-message")).to_contain_text("mapped fails with -ENOMEM")
    bl.locator(".mmviz-run").click()
    st = bl.locator(".mmviz-stepper")
    expect(st).to_contain_text("kernel v3")
    expect(st).to_contain_text("-ENOMEM")
    expect(st).to_contain_text("1 violation")
    expect(bl.locator(".mmviz-builder-message")).to_contain_text("recorded")
    st.locator(".mmviz-next-violation").click()
    expect(st.locator(".mmviz-banner")).to_contain_text("unlock-not-held")
    _shot(bl, "builder")

    bl.locator(".mmviz-builder-kernel button", has_text="v4").click()
    bl.locator(".mmviz-run").click()
    expect(bl.locator(".mmviz-stepper")).to_contain_text("kernel v4")
    expect(bl.locator(".mmviz-stepper")).not_to_contain_text("1 violation")
    expect(bl.locator(".mmviz-stepper .mmviz-next-violation")).to_be_disabled()

    bl.locator(".mmviz-builder-fail select").select_option("mmap")   # a regular file has no .mmap
    msg = bl.locator(".mmviz-builder-message")
    expect(msg).to_contain_text("Cannot run this combination")
    expect(msg).to_contain_text("only legacy and stacked files")
    bl.locator(".mmviz-run").click()
    expect(msg).to_contain_text("Cannot run this combination")
    expect(bl.locator(".mmviz-stepper")).to_have_count(0)      # the last run's stepper is gone
    for err in bl.locator(".mmviz-error").all():
        expect(err).to_be_hidden()
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
    _shot(bl.locator(".mmviz-builder-message"), "builder-refused")


def test_compare_steps_to_the_violation(notebook):
    page = notebook([IMPORTS, COMPARE], ".mmviz-compare img.mmviz-layout-b")
    cl = page.locator(".mmviz-compare")
    label = _label(cl)
    from mmviz.trace.align import align
    rows = align(_T, record("mapped-fail-hidden", kernel="v4"))
    expect(label).to_contain_text(f"row 0 / {len(rows) - 1}")
    la = cl.locator("img.mmviz-layout-a")
    src0 = la.get_attribute("src")
    cl.locator(".mmviz-next-diff").click()
    expect(label).to_contain_text("only in A")
    handle = cl.locator(".mmviz-step-slider .noUi-handle")
    text = label.inner_text()
    handle.focus()
    page.keyboard.press("ArrowRight")
    expect(label).not_to_have_text(text)
    for _ in range(10):
        if "violation" in label.inner_text():
            break
        cl.locator(".mmviz-next-diff").click()
        time.sleep(0.3)
    expect(label).to_contain_text("violation")
    expect(cl.locator(".mmviz-banner-a")).to_contain_text("unlock-not-held")
    expect(cl.locator(".mmviz-narration-b")).to_contain_text("no matching event in B")
    expect(cl.locator(".mmviz-compare-table")).to_contain_text("bad unlock balance")
    expect(la).not_to_have_attribute("src", src0)
    _shot(cl, "compare")


def test_notebook7_smoke(lab, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto(lab.url("tree"))
        expect(page.locator("text=nb7.ipynb").first).to_be_visible()
        page.goto(lab.url("notebooks/nb7.ipynb"))
        page.wait_for_selector(".jp-Notebook")
        lab.wait_kernel_idle("nb7.ipynb")
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        st = page.locator(".mmviz-stepper").first
        label = _label(st)
        expect(label).to_contain_text(f"event 0 / {LAST}")
        cursor = st.locator(".mmviz-timeline-cursor .mmviz-cursor")
        # Notebook 7 binds ArrowLeft/Right in command mode before widgets see them; the
        # buttons take Enter and the slider takes PageUp/PageDown/Home/End.
        st.locator(".mmviz-next").click()
        expect(label).to_contain_text(f"event 1 / {LAST}")
        st.locator(".mmviz-next").focus()
        page.keyboard.press("Enter")
        expect(label).to_contain_text(f"event 2 / {LAST}")
        st.locator(".mmviz-step-slider .noUi-handle").focus()
        page.keyboard.press("End")
        expect(label).to_contain_text(f"event {LAST} / {LAST}")
        expect(cursor).to_have_attribute("data-seq", str(LAST))
        _shot(st, "notebook7-stepper")
    finally:
        page.close()
        lab.shutdown_sessions("nb7.ipynb")


# --- the laptop layout (1440x900) -----------------------------------------------------------

LAPTOP_PANES = {"controls": ".mmviz-step-slider", "narration": ".mmviz-words",
                "layout": "img.mmviz-layout", "timeline": "img.mmviz-timeline",
                "source": ".mmviz-source"}


def _laptop(lab, browser, request, cells, ready):
    name = re.sub(r"\W+", "-", request.node.name) + ".ipynb"
    write_notebook(lab.root / name, cells)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    run_all(page, lab, name)
    page.wait_for_selector(ready, timeout=TIMEOUT)
    return ctx, page, name


def test_laptop_every_pane_is_visible_together_at_the_violation(lab, browser, request):
    ctx, page, name = _laptop(lab, browser, request, [IMPORTS, STEPPER],
                              ".mmviz-stepper img.mmviz-timeline")
    try:
        st = page.locator(".mmviz-stepper").first
        st.locator(".mmviz-next-violation").click()
        expect(_label(st)).to_contain_text(f"event {VIOLATION} / {LAST}")
        st.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        panel = page.locator(".jp-WindowedPanel-outer, .jp-Notebook").first.bounding_box()
        boxes = {}
        for pane, sel in LAPTOP_PANES.items():
            boxes[pane] = st.locator(sel).first.bounding_box()
            b = boxes[pane]
            assert b is not None and b["width"] > 50 and b["height"] > 15, (pane, b)
            # wholly inside the notebook's visible area, at the same time as every other
            assert b["y"] >= panel["y"] - 1 and b["y"] + b["height"] <= panel["y"] + panel["height"] + 1, (pane, b, panel)
            assert b["x"] >= panel["x"] - 1 and b["x"] + b["width"] <= panel["x"] + panel["width"] + 1, (pane, b, panel)
        # two columns: the source beside the pictures, not under them
        assert boxes["source"]["x"] > boxes["layout"]["x"] + boxes["layout"]["width"] - 5
        assert "bad unlock balance" in st.locator(".mmviz-words").inner_text()
        # the call graph tab centres the current call in its pane
        st.locator(".mmviz-code-tabs .lm-TabBar-tab", has_text="call graph").click()
        cg = st.locator(".mmviz-callgraph").first.bounding_box()
        node = st.locator(".mmviz-callgraph g.node").evaluate_all(
            "els => els.map(e => [getComputedStyle(e.querySelector('path, polygon, ellipse'))"
            ".fill, e.getBoundingClientRect().x, e.getBoundingClientRect().width])")
        now = [n for n in node if n[0] == "rgb(240, 228, 66)"]
        assert len(now) == 1 and cg["x"] <= now[0][1] and now[0][1] + now[0][2] <= cg["x"] + cg["width"]
        _shot(page, "laptop-1440x900-violation")
        # keys: the text tab's event list steps forward with PageDown (a clicker's "next")
        st.locator(".mmviz-code-tabs .lm-TabBar-tab", has_text="text").click()
        events = st.locator(".mmviz-events select")
        expect(events).to_have_value(re.compile(rf"^\s*{VIOLATION} "))   # follows the slider
        events.select_option(index=VIOLATION + 1)                         # and leads it
        expect(_label(st)).to_contain_text(f"event {VIOLATION + 1} / {LAST}")
        expect(st.locator(".mmviz-strip")).to_contain_text("address space as text")
        events.focus()
        page.keyboard.press("PageDown")
        page.wait_for_timeout(500)
        n = int(re.search(r"event (\d+)", _label(st).inner_text()).group(1))
        assert n > VIOLATION + 1                                          # forward, not back
    finally:
        ctx.close()
        lab.shutdown_sessions(name)


QUIZ = ("from mmviz.lessons import lesson_questions, show_questions\n"
        "qs = lesson_questions('09')\nquiz = show_questions(qs)")


def test_quiz_check_button_keeps_its_label_beside_a_long_verdict(lab, browser, request):
    ctx, page, name = _laptop(lab, browser, request, [QUIZ], ".mmviz-questions .mmviz-check")
    try:
        box = page.locator(".mmviz-question-box").first
        box.locator(".mmviz-choice input").first.check()
        box.locator(".mmviz-check").click()
        expect(box.locator(".mmviz-verdict")).to_contain_text("")
        page.wait_for_timeout(500)
        btn = box.locator(".mmviz-check")
        w = btn.bounding_box()["width"]
        clipped = btn.evaluate("e => e.scrollWidth > e.clientWidth + 1")
        assert w >= 88 and not clipped and btn.inner_text().strip() == "check"
        expect(page.locator(".mmviz-score")).to_contain_text("Score:")
        _shot(box, "quiz")
    finally:
        ctx.close()
        lab.shutdown_sessions(name)
