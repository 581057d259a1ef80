"""One drawing path per picture: every picture is drawn in `mmviz/render/`, nowhere else.

The views (`mmviz/widgets/`, `mmviz/cli/`, `mmviz/lessons/`) show what the renderers made:
they import no drawing library (matplotlib, Pillow, Pygments, Graphviz), call no
`savefig`, make no `Figure(...)`, run no `dot`, and write no SVG by hand. The check reads
every module's syntax tree (imports inside functions too), and checks itself on a probe.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).parent.parent / "mmviz"
VIEWS = ("widgets", "cli", "lessons")
DRAWING = ("matplotlib", "PIL", "pygments", "graphviz")
SVG_TAGS = ("<svg", "<rect", "<path", "<polygon", "<line ")


def _views():
    out = []
    for part in VIEWS:
        base = PKG / part
        out += sorted(base.rglob("*.py")) if base.is_dir() else [PKG / f"{part}.py"]
    return [p for p in out if p.exists()]


def drawing_in(source: str, name: str = "<probe>") -> list:
    """Every place `source` draws a picture itself: (line, what)."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if a.name.split(".")[0] in DRAWING]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module.split(".")[0] in DRAWING:
                found.append((node.lineno, f"from {node.module} import"))
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in ("savefig", "print_png", "print_figure"):
                found.append((node.lineno, f".{f.attr}()"))
            if isinstance(f, ast.Name) and f.id in ("Figure", "FigureCanvasAgg"):
                found.append((node.lineno, f"{f.id}()"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if any(tag in text for tag in SVG_TAGS) and "<style" not in text:
                found.append((node.lineno, "SVG written by hand"))
            if text in ("dot", "-Tsvg", "-Tpng"):
                found.append((node.lineno, f"runs {text!r}"))
    return found


def test_the_check_finds_each_kind_of_drawing():
    probe = ("def f():\n"
             "    import matplotlib.pyplot as plt\n"
             "    from PIL import Image\n"
             "    from pygments import highlight\n"
             "    fig = Figure(figsize=(1, 1))\n"
             "    fig.savefig('x.png')\n"
             "    return \"<svg width='1'><rect/></svg>\", ['dot', '-Tsvg']\n")
    whats = sorted(w for _, w in drawing_in(probe))
    assert whats == sorted(["import matplotlib.pyplot", "from PIL import",
                            "from pygments import", "Figure()", ".savefig()",
                            "SVG written by hand", "runs 'dot'", "runs '-Tsvg'"])
    assert drawing_in("from ..render.layout import layout_png\nx = layout_png(s)\n") == []


@pytest.mark.parametrize("path", _views(), ids=lambda p: str(p.relative_to(PKG)))
def test_views_draw_nothing_themselves(path):
    found = drawing_in(path.read_text(), str(path))
    assert not found, (f"{path.relative_to(PKG)} draws a picture itself (draw it in "
                       f"mmviz/render/): " + "; ".join(f"line {n}: {w}" for n, w in found))


def test_the_old_second_drawers_are_gone():
    for gone in ("widgets/fastdraw.py", "widgets/narrate.py", "widgets/callgraph_pane.py",
                 "lessons.py"):
        assert not (PKG / gone).exists(), gone
