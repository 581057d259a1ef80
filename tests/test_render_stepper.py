"""The offline HTML stepper, opened in headless Chromium with the network blocked."""

import json
import os
import re

import pytest

from mmviz.render.narration import sentence
from mmviz.cli.main import main
from mmviz.render.stepper_html import stepper_html
from mmviz.scenarios import record

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --- without a browser: the file is self-contained ----------------------------------------------

def test_page_references_nothing_outside_itself():
    html = stepper_html(record("fixed-replace"))
    # every src/href is a data: URI or an in-page anchor; no CSS import or url() fetch
    for m in re.finditer(r'\b(?:src|href)\s*=\s*"([^"]*)"', html):
        assert m.group(1).startswith(("data:", "#")), m.group(0)[:80]
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(?!data:)", html)
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html
    assert "default-src 'none'" in html              # and the CSP forbids any fetch anyway


def test_layout_frames_are_reused_when_nothing_changes():
    t = record("mapped-fail-hidden", kernel="v3")
    html = stepper_html(t)
    data = json.loads(re.search(r'<script type="application/json" id="mmviz-data">(.*?)</script>',
                                html, re.S).group(1).replace("<\\/", "</"))
    assert len(data["steps"]) == len(t)
    assert 1 < len(data["layouts"]) < len(t) / 3
    assert html.count('class="mmviz-src-block"') < len(t) / 2      # source once per function
    assert html.count("<svg") == 1                                   # the call graph, once


# --- in Chromium --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Offline:
    """A page that may load one file:// URL and nothing else; every attempt is recorded."""

    def __init__(self, browser, path):
        self.url = "file://" + os.path.abspath(path)
        self.ctx = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        self.page = self.ctx.new_page()
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def only_the_file(route):
            if route.request.url == self.url:
                route.continue_()
            else:
                route.abort()

        self.page.route("**/*", only_the_file)
        self.page.goto(self.url)

    def step(self):
        return int(self.page.get_attribute("body", "data-step"))

    def narration(self):
        return self.page.inner_text("#mmviz-narration")

    def close(self):
        self.ctx.close()
        assert self.errors == [], self.errors
        network = [u for u in self.requests if u != self.url and not u.startswith("data:")]
        assert network == [], network
        assert self.requests[:1] == [self.url]


@pytest.fixture(scope="module")
def double_unlock():
    return record("mapped-fail-hidden", kernel="v3")


@pytest.fixture(scope="module")
def stepper_file(tmp_path_factory, double_unlock):
    path = tmp_path_factory.mktemp("stepper") / "mapped-fail-hidden-v3.html"
    path.write_text(stepper_html(double_unlock), encoding="utf-8")
    return path


@pytest.mark.browser
def test_buttons_and_keys_change_the_step_and_its_pictures(browser, stepper_file, double_unlock):
    t = double_unlock
    o = Offline(browser, stepper_file)
    pg = o.page
    assert o.step() == 0 and sentence(t[0], t.kernel) in o.narration()
    data = pg.evaluate("JSON.parse(document.getElementById('mmviz-data').textContent)")

    pg.click("#mmviz-next")
    assert o.step() == 1 and sentence(t[1], t.kernel) in o.narration()
    assert pg.input_value("#mmviz-step") == "1"
    pg.click("#mmviz-prev")
    assert o.step() == 0

    pg.locator("#mmviz-narration").click()          # focus the page, not a control
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    assert o.step() == 3 and sentence(t[3], t.kernel) in o.narration()
    pg.keyboard.press("ArrowLeft")
    assert o.step() == 2
    pg.keyboard.press("End")
    assert o.step() == len(t) - 1
    pg.keyboard.press("Home")
    assert o.step() == 0
    pg.click("#mmviz-last")
    assert o.step() == len(t) - 1
    pg.click("#mmviz-first")
    assert o.step() == 0

    # the pictures follow: the first step with a VMA in the tree (step 0 has none)
    assert not t[0].snapshot.vmas
    k = next(i for i in range(len(t)) if t[i].snapshot.vmas)
    assert data["steps"][k]["layout"] != data["steps"][0]["layout"]
    img0 = pg.get_attribute("#mmviz-layout img", "src")
    cursor0 = pg.eval_on_selector("#mmviz-cursor", "e => e.style.left")
    node0 = pg.eval_on_selector(".mmviz-current", "e => e.id")
    pg.locator("#mmviz-narration").click()
    for _ in range(k):
        pg.keyboard.press("ArrowRight")
    assert o.step() == k
    assert pg.get_attribute("#mmviz-layout img", "src") != img0
    assert pg.get_attribute("#mmviz-layout img", "src") == data["layouts"][data["steps"][k]["layout"]]["src"]
    assert "vma#" in pg.get_attribute("#mmviz-layout img", "alt")
    assert pg.eval_on_selector("#mmviz-cursor", "e => e.style.left") != cursor0
    node = pg.eval_on_selector(".mmviz-current", "e => e.id")
    assert node == f"mmviz-cg-node-{data['steps'][k]['node']}" and node != node0
    # the source pane shows one block with the current line marked when the frame has one
    visible = pg.locator(".mmviz-src-block:not([hidden])")
    assert visible.count() == 1
    line_step = next(i for i, s in enumerate(data["steps"]) if s["line"])
    pg.evaluate(f"s => {{ s = document.getElementById('mmviz-step'); s.value = {line_step}; "
                "s.dispatchEvent(new Event('input')); }")
    assert o.step() == line_step
    assert pg.locator(".mmviz-line-now").count() == 1

    # the slider moves with its own arrow keys
    pg.focus("#mmviz-step")
    pg.keyboard.press("ArrowRight")
    assert o.step() == line_step + 1
    o.close()


@pytest.mark.browser
def test_play_runs_and_pauses(browser, stepper_file):
    o = Offline(browser, stepper_file)
    pg = o.page
    pg.click("#mmviz-play")
    assert pg.get_attribute("#mmviz-play", "aria-pressed") == "true"
    for _ in range(50):                      # (the page's CSP forbids Playwright's eval)
        if o.step() >= 2:
            break
        pg.wait_for_timeout(100)
    assert o.step() >= 2
    pg.click("#mmviz-play")
    assert pg.get_attribute("#mmviz-play", "aria-pressed") == "false"
    s = o.step()
    pg.wait_for_timeout(900)
    assert o.step() == s
    o.close()


@pytest.mark.browser
def test_exported_page_steps_offline_to_the_double_unlock(browser, tmp_path, double_unlock):
    out = tmp_path / "x.html"
    assert main(["export", "mapped-fail-hidden", "--kernel", "v3", "-o", str(out)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["x.html"]
    v = double_unlock.violations[0]
    assert v.kind == "unlock-not-held"
    o = Offline(browser, out)
    pg = o.page
    banner = pg.locator("#mmviz-violations")
    assert not banner.is_visible()
    pg.locator("#mmviz-narration").click()
    for _ in range(v.seq - 1):
        pg.keyboard.press("ArrowRight")
    assert o.step() == v.seq - 1
    assert not banner.is_visible()                  # not yet: the unlock has not happened
    pg.keyboard.press("ArrowRight")
    assert o.step() == v.seq
    assert banner.is_visible()
    text = banner.inner_text()
    assert "DOUBLE UNLOCK" in text and v.lock in text and "(this step)" in text
    assert "bad unlock balance" in o.narration()
    pg.keyboard.press("ArrowRight")
    assert banner.is_visible() and "(this step)" not in banner.inner_text()
    pg.keyboard.press("Home")
    assert not banner.is_visible()
    o.close()


@pytest.mark.browser
def test_the_offline_stepper_has_the_widgets_jumps_and_clicker_keys(browser, stepper_file,
                                                                    double_unlock):
    from mmviz.trace.query import targets
    t = double_unlock
    tg = targets(t)
    o = Offline(browser, stepper_file)
    pg = o.page
    for kind in ("hook", "lock", "vma", "error", "violation"):
        assert pg.locator(f"#mmviz-next-{kind}").count() == 1
        assert pg.locator(f"#mmviz-prev-{kind}").is_disabled()      # nothing before event 0
    pg.click("#mmviz-next-hook")
    assert o.step() == tg["hook"][0]
    pg.click("#mmviz-next-hook")
    assert o.step() == tg["hook"][1]
    pg.click("#mmviz-prev-hook")
    assert o.step() == tg["hook"][0]
    pg.click("#mmviz-next-violation")
    assert o.step() == t.violations[0].seq
    assert pg.locator("#mmviz-next-violation").is_disabled()
    assert "bad unlock balance" in o.narration()
    # PageDown goes forward — also with the slider focused (its own PageDown goes back)
    s = o.step()
    pg.focus("#mmviz-step")
    pg.keyboard.press("PageDown")
    assert o.step() == s + 1
    pg.keyboard.press("PageUp")
    assert o.step() == s
    # this step as text: its transcript line and the ASCII strip
    assert f"{s:4d}" in pg.inner_text("#mmviz-step-line")
    assert "vma#1" in pg.inner_text("#mmviz-strip")
    o.close()


@pytest.mark.browser
def test_the_lecture_page_fits_a_slide_with_big_text(browser, tmp_path, double_unlock):
    path = tmp_path / "lecture.html"
    path.write_text(stepper_html(double_unlock, lecture=True, view="timeline"), encoding="utf-8")
    o = Offline(browser, path)
    pg = o.page
    pg.set_viewport_size({"width": 1260, "height": 560})
    assert pg.get_attribute("body", "data-view") == "timeline"
    pg.click("#mmviz-next-violation")
    img = pg.locator("#mmviz-timeline img")
    box = img.bounding_box()
    assert box["y"] + box["height"] <= 560 + 1                    # the whole picture shows
    px = float(img.get_attribute("data-min-font-px")) * box["width"] / img.evaluate(
        "e => e.naturalWidth")
    assert px >= 18
    pg.keyboard.press("1")                                        # 1-5 choose the view
    assert pg.get_attribute("body", "data-view") == "layout"
    assert pg.locator("#mmviz-layout img").is_visible()
    assert not pg.locator("#mmviz-timeline img").is_visible()
    pg.keyboard.press("3")
    fs = pg.eval_on_selector("#mmviz-source .mmviz-src-block:not([hidden]) pre",
                             "e => parseFloat(getComputedStyle(e).fontSize)")
    assert fs >= 18
    o.close()
