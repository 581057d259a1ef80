"""Layering: `import mmviz` stays light, and every module imports only downward.

notebooks → widgets → render → trace → model (DESIGN §1). The check reads every module's
syntax tree, so it sees relative imports (`from .. import x`, `from ..render import y`)
and imports inside functions, which a text search misses.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

HEAVY = ("matplotlib", "ipywidgets", "graphviz", "nbformat", "nbclient", "pygments", "IPython")
PKG = pathlib.Path(__file__).parent.parent / "mmviz"

# Rank of each top-level part of the package: a module may import parts of equal or lower
# rank (its own part included), never higher.
RANK = {
    "model": 0, "live": 0,
    "trace": 1,
    "scenarios": 2,
    "render": 3,
    "exercises": 4, "exercises_races": 4, "exercises_space": 4,
    "widgets": 5,
    "lessons": 6, "cli": 6,
    "__init__": 7, "__main__": 7,
}


def test_import_mmviz_loads_no_heavy_module():
    code = ("import sys, mmviz, mmviz.scenarios, mmviz.trace, mmviz.render; "
            "import mmviz.render.narration, mmviz.trace.query; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _modules():
    return sorted(p for p in PKG.rglob("*.py"))


def _part_of(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG).parts
    return rel[0].removesuffix(".py")


def _imports(path: pathlib.Path):
    """(line, absolute dotted name) of every import in the file, relative ones resolved."""
    rel = path.relative_to(PKG.parent).with_suffix("").parts       # ("mmviz", "render", "x")
    package = rel[:-1] if path.name != "__init__.py" else rel[:-1]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ((node.module,) if node.module else ()))
                if node.module is None:           # from .. import x: each x may be a module
                    for a in node.names:
                        yield node.lineno, f"{mod}.{a.name}"
                    continue
                yield node.lineno, mod
            else:
                yield node.lineno, node.module


def test_the_checker_sees_relative_and_nested_imports(tmp_path):
    """The checker itself: it must resolve `from .. import x` and imports inside functions."""
    d = PKG / "render"
    fake = d / "_layering_probe.py"
    fake.write_text("def f():\n    from .. import widgets\n    from ..widgets import stepper\n")
    try:
        found = [name for _, name in _imports(fake)]
    finally:
        fake.unlink()
    assert found == ["mmviz.widgets", "mmviz.widgets"]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_every_module_imports_only_downward(path):
    part = _part_of(path)
    assert part in RANK, f"{part} has no rank: add it to RANK in this test (and DESIGN §1)"
    stdlib = set(sys.stdlib_module_names)
    for line, name in _imports(path):
        top = name.split(".")[0]
        if top == "mmviz":
            target = name.split(".")[1] if "." in name else "__init__"
            if not ((PKG / target).is_dir() or (PKG / f"{target}.py").exists()):
                target = "__init__"               # a name mmviz/__init__ exports (World, ...)
            assert target in RANK, f"{path.name}:{line} imports unknown part mmviz.{target}"
            assert RANK[target] <= RANK[part], (
                f"{path.relative_to(PKG)}:{line} imports mmviz.{target}, a higher layer")
        elif part == "model" or part == "live":
            assert top in stdlib or top == "__future__", (
                f"{path.relative_to(PKG)}:{line} imports {name}: the model is standard library only")
