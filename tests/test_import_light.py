"""`import mmviz` stays light: the model only, no plotting or widget libraries."""

import subprocess
import sys

HEAVY = ("matplotlib", "ipywidgets", "graphviz", "nbformat", "nbclient", "pygments", "IPython")


def test_import_mmviz_loads_no_heavy_module():
    code = ("import sys, mmviz, mmviz.scenarios, mmviz.trace, mmviz.render; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_model_imports_only_the_standard_library():
    import pathlib
    import re
    root = pathlib.Path(__file__).parent.parent / "mmviz" / "model"
    stdlib = set(sys.stdlib_module_names)
    for path in root.glob("*.py"):
        for m in re.finditer(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text(), re.M):
            name = m.group(1)
            if name.startswith("."):
                continue
            assert name.split(".")[0] in stdlib or name == "__future__", f"{path.name} imports {name}"


def test_layers_import_downward_only():
    """notebooks → widgets → render → trace → model (cli and scenarios use trace + render)."""
    import pathlib
    import re
    pkg = pathlib.Path(__file__).parent.parent / "mmviz"
    allowed = {"model": set(), "trace": {"model"}, "scenarios": {"model", "trace"},
               "render": {"model", "trace", "scenarios"},
               "widgets": {"model", "trace", "scenarios", "render"}}
    for layer, ok in allowed.items():
        for path in (pkg / layer).glob("*.py"):
            text = path.read_text()
            for m in re.finditer(r"^\s*from\s+\.\.(\w+)", text, re.M):
                assert m.group(1) in ok, f"{layer}/{path.name} imports the {m.group(1)} layer"
            for m in re.finditer(r"^\s*(?:from|import)\s+mmviz\.(\w+)", text, re.M):
                assert m.group(1) in ok | {layer}, f"{layer}/{path.name} imports mmviz.{m.group(1)}"
