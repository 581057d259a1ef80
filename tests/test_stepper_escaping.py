"""The offline stepper's data survives any name: `<!--`, `</script>` and markup in a driver
name stay text, and the page still steps (tested in headless Chromium, network blocked)."""

from __future__ import annotations

import json
import os
import re

import pytest

from mmviz import MAP_FIXED, MAP_SHARED, PROT_READ, PROT_WRITE
from mmviz.model.drivers import DriverSpec
from mmviz.render.narration import sentence
from mmviz.render.stepper_html import stepper_html
from mmviz.scenarios.base import Scenario, run

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NAME = "cam<!--0</script><b>bold</b>&amp;\u2028x"


@pytest.fixture(scope="module")
def trace():
    def setup(w):
        return {"fd": w.open_driver(DriverSpec("regular", name=NAME))}

    def act(w, ctx):
        return w.mmap(0x10000000, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                      ctx["fd"], 0)

    return run(Scenario("odd-name", "A driver with an odd name", "escaping", setup, act))


@pytest.fixture(scope="module")
def page_file(tmp_path_factory, trace):
    path = tmp_path_factory.mktemp("odd") / "odd.html"
    path.write_text(stepper_html(trace), encoding="utf-8")
    return path


def test_the_embedded_data_is_valid_json_with_no_markup(page_file, trace):
    html = page_file.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="mmviz-data">(.*?)</script>', html, re.S)
    text = m.group(1)
    assert not re.search(r"[<>&\u2028\u2029]", text)
    data = json.loads(text)                      # as is: no un-escaping needed
    assert len(data["steps"]) == len(trace)
    assert NAME in json.dumps(data, ensure_ascii=False)


@pytest.mark.browser
def test_a_page_with_markup_in_a_name_steps_and_shows_it_as_text(page_file, trace):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    url = page_file.resolve().as_uri()
    k = next(i for i, e in enumerate(trace.events) if NAME in sentence(e, trace.kernel))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(offline=True)
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
            page.goto(url)
            step = lambda: int(page.get_attribute("body", "data-step"))  # noqa: E731
            assert step() == 0
            page.click("#mmviz-next")
            assert step() == 1, errors
            page.locator("#mmviz-narration").click()
            for _ in range(k - 1):
                page.keyboard.press("ArrowRight")
            assert step() == k
            narration = page.locator("#mmviz-narration")
            assert NAME in narration.inner_text()
            # markup in the name stayed text (the narration's own <b>S7</b> is markup)
            assert narration.locator("b", has_text="bold").count() == 0
            assert page.locator("script").count() == 2           # the data and the code
            assert errors == []
        finally:
            browser.close()
