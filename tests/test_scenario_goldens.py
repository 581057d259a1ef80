"""Golden traces: every catalog scenario under every kernel variant, as text and JSON.

Regenerate with `pytest tests/test_scenario_goldens.py --update-goldens` and review the
diff. JSON goldens store model source line numbers as 0: they move with every edit of the
model, and test_trace_stack_lines checks them against the source instead.
"""

import pathlib
import re

import pytest

from mmviz.render.text import transcript
from mmviz.scenarios import all_names, names, record
from mmviz.trace import Trace

GOLDEN = pathlib.Path(__file__).parent / "golden"
KERNELS = ("baseline", "v3", "v4", "mainline")


def _normalise(text: str) -> str:
    # stack frames are [fn, file, line, kernel_source]
    return re.sub(r'("mmviz/[\w/]+\.py"),\d+,', r'\1,0,', text)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", all_names())
def test_golden(name, kernel, update_goldens):
    t = record(name, kernel=kernel, validate=True)
    text = transcript(t)
    js = _normalise(t.to_json())
    tpath = GOLDEN / f"{name}.{kernel}.txt"
    jpath = GOLDEN / f"{name}.{kernel}.json"
    if update_goldens:
        GOLDEN.mkdir(exist_ok=True)
        tpath.write_text(text)
        jpath.write_text(js)
        return
    assert tpath.exists(), f"no golden {tpath.name}: run pytest --update-goldens and review it"
    assert text == tpath.read_text(), f"{tpath.name} differs: rerun with --update-goldens and review the diff"
    assert js == jpath.read_text(), f"{jpath.name} differs: rerun with --update-goldens and review the diff"


@pytest.mark.parametrize("name", ["remap-pfn", "mapped-fail-hidden", "fixed-replace"])
def test_json_is_byte_identical_across_runs(name):
    assert record(name).to_json() == record(name).to_json()


@pytest.mark.parametrize("name", names())
def test_json_round_trip(name):
    t = record(name, kernel="v3")
    back = Trace.from_json(t.to_json())
    assert back == t
    assert back.to_json() == t.to_json()


def test_trace_stack_lines_point_into_the_named_function():
    """Each recorded frame's line lies inside the source of the model function it names."""
    import importlib
    import inspect
    t = record("mapped-fail-hidden", kernel="v4")
    checked = 0
    for e in t.events:
        for f in e.snapshot.stack:
            if f.file is None:
                continue
            mod = importlib.import_module(f.file[:-3].replace("/", "."))
            fn = getattr(mod, f.fn)
            fn = getattr(fn, "__wrapped__", fn)
            lines, first = inspect.getsourcelines(fn)
            if not first <= f.line < first + len(lines):
                # or inside the variant's body the function dispatches to (`_finish_v4` of
                # mmap_action_finish): a helper of the same module, called by it, whose
                # docstring says which kernel code it mirrors
                body = [b for name, b in vars(mod).items() if inspect.isfunction(b)
                        and name.startswith("_") and f"{name}(" in "".join(lines)
                        and "Mirrors " in (b.__doc__ or "")
                        and 0 <= f.line - inspect.getsourcelines(b)[1]
                        < len(inspect.getsourcelines(b)[0])]
                assert body, (f, first, len(lines))
            assert f.kernel_source and f.kernel_source.startswith(("mm/", "include/"))
            checked += 1
    assert checked > 100
