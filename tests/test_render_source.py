"""The source pane: the model function of a frame, its current line marked, or a hook card."""

import os
import re
from html.parser import HTMLParser

import pytest

import mmviz

from mmviz.render.source import find_function, source_html
from mmviz.scenarios import record
from mmviz.trace.snapshot import Frame

pytest.importorskip("pygments")


@pytest.fixture(scope="module")
def trace():
    return record("mapped-fail-hidden", kernel="v3")


class _Marked(HTMLParser):
    """Collects the text of every span whose inline style is the line mark's background."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.lines = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag == "span"
        elif tag == "span" and "background-color: #F0E442" in (dict(attrs).get("style") or ""):
            self.depth = 1
            self.lines.append("")

    def handle_endtag(self, tag):
        if self.depth and tag == "span":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.lines[-1] += data


def marked_lines(html):
    """Source text of the marked lines (the inline line number removed)."""
    p = _Marked()
    p.feed(html)
    return [re.sub(r"^\s*\d+", "", t).rstrip("\n") for t in p.lines]


def test_frame_with_a_line_shows_that_line_marked(trace):
    e = trace[trace.violations[0].seq]
    frame = e.snapshot.stack[-1]
    assert frame.fn == "call_mapped_hook" and frame.line
    html = source_html(e)
    assert "call_mapped_hook()" in html
    assert "mirrors" in html and frame.kernel_source in html
    root = os.path.dirname(os.path.dirname(os.path.abspath(mmviz.__file__)))
    with open(os.path.join(root, frame.file), encoding="utf-8") as f:
        expected = f.read().splitlines()[frame.line - 1].strip()
    marked = [m.strip() for m in marked_lines(html)]
    assert marked == [expected]
    assert f"{frame.file}:{frame.line}" in html


def test_inline_styles_only(trace):
    html = source_html(trace[30])
    assert "<style" not in html and 'class="k"' not in html
    assert 'style="color:' in html


def test_a_frame_object_works_too():
    fs = find_function("__mmap_region")
    line = fs.start + 5
    html = source_html(Frame("__mmap_region", fs.file, line, fs.kernel_source))
    assert "mm/vma.c" in html
    assert len(marked_lines(html)) == 1


def test_a_just_called_function_marks_its_def_line(trace):
    e = next(e for e in trace.events if e.kind == "call" and e.fn == "__mmap_region")
    assert e.snapshot.stack[-1].line is None
    marked = marked_lines(source_html(e))
    assert len(marked) == 1 and marked[0].startswith("def __mmap_region(")


def test_decorated_functions_show_their_own_body():
    fs = find_function("call_mapped_hook")
    text = "\n".join(fs.lines)
    assert "def call_mapped_hook" in text and "_kernel_call" not in text
    assert fs.faithfulness in ("faithful", "simplified", "stub")


def test_hooks_get_a_card_not_source(trace):
    e = next(e for e in trace.events if e.kind == "hook" and e.fn == "vm_ops->mapped")
    html = source_html(e)
    assert "mmviz-hook-card" in html and "via pointer" in html
    assert "<pre" not in html
    assert "vm_ops-&gt;mapped" in html


def test_user_space_card(trace):
    html = source_html(trace[0])
    assert trace[0].snapshot.stack == ()
    assert "user space" in html and "<pre" not in html
