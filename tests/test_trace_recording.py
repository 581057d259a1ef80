"""Recording: structured events only from the model, every event explained by the narration,
snapshots that share what did not change, and the per-task call stack."""

import ast
import pathlib

import pytest

import mmviz
from mmviz.model.drivers import DriverSpec
from mmviz.model.errno import Errno
from mmviz.model.variants import KERNELS, VARIANTS
from mmviz.render.narration import STEPS, known_whats, sentence
from mmviz.scenarios import names, record
from mmviz.trace import Recorder, VmaSet, VmaView

MODEL = pathlib.Path(mmviz.__file__).parent / "model"
A = 0x10000000
P = 4096


@pytest.fixture(scope="module")
def catalog():
    return [record(n, kernel=k) for n in names() for k in KERNELS]


def test_every_event_has_a_sentence(catalog):
    for t in catalog:
        for e in t.events:
            assert e.what in known_whats(), (t.scenario, t.kernel, e.seq, e.what)
            if e.what == "step":
                assert e.data["step"] in STEPS
            text = sentence(e, t.kernel)
            assert text and f"{e.fn}: {e.what}" not in text, (t.scenario, e.seq)


def _emit_calls():
    for path in MODEL.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("emit", "kernel_bug", "report_violation")):
                yield path.name, node


def test_the_model_emits_no_prose():
    """Every emit names its sentence with a short tag; no string in its arguments is prose."""
    calls = list(_emit_calls())
    assert len(calls) > 50
    for name, node in calls:
        for arg in node.args:
            assert not isinstance(arg, ast.JoinedStr), f"{name}:{node.lineno} formats a string"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                assert " " not in arg.value and len(arg.value) <= 40, (
                    f"{name}:{node.lineno} passes prose {arg.value!r}")
        for kw in node.keywords:
            assert not isinstance(kw.value, ast.JoinedStr), f"{name}:{node.lineno} {kw.arg}"


def test_no_model_code_compares_variant_names():
    for path in MODEL.glob("*.py"):
        if path.name in ("variants.py", "world.py"):
            continue
        text = path.read_text()
        assert "config.kernel" not in text, path.name
        for v in VARIANTS:
            assert f'== "{v}"' not in text and f"== '{v}'" not in text, (path.name, v)


def test_each_variant_names_its_source():
    for v in VARIANTS.values():
        assert v.source and v.commit and v.title, v.name


def test_unrecorded_runs_still_name_the_function_in_reports():
    """The call stack is the task's, kept whether or not anything records."""
    w = mmviz.World(kernel="baseline")
    fd = w.open_driver(DriverSpec("pfn-remap", hide=True, fail={"action_complete": -Errno.ENOMEM}))
    with pytest.raises(mmviz.TaskHung):
        w.mmap(A, 4 * P, 3, mmviz.MAP_SHARED | mmviz.MAP_FIXED, fd, 0)
    (v,) = w.violations
    assert v["kind"] == "deadlock" and v["fn"] == "unlink_file_vma_batch_process"
    assert w.current.stack == []             # unwound


def test_snapshots_share_unchanged_vmas():
    t = record("mapped-fail-hidden", kernel="v3", prefill=5000)
    sets = [t.initial.vmas] + [e.snapshot.vmas for e in t.events]
    assert len(sets[0]) == 5000
    for a, b in zip(sets, sets[1:]):
        shared = sum(1 for ca in a._chunks for cb in b._chunks if ca is cb)
        assert shared >= len(b._chunks) - 3          # a change copies at most a few chunks
    assert max(len(e.snapshot.set_views) + len(e.snapshot.del_ids) for e in t.events) <= 3


def test_snapshot_changes_rebuild_every_set():
    t = record("fixed-replace")
    cur = {v.id: v for v in t.initial.vmas}
    for e in t.events:
        for i in e.snapshot.del_ids:
            del cur[i]
        cur.update((v.id, v) for v in e.snapshot.set_views)
        assert sorted(cur.values(), key=lambda v: (v.start, v.id)) == list(e.snapshot.vmas)


def test_catalog_ends_with_no_vma_in_flight(catalog):
    for t in catalog:
        stuck = [v for v in t.final.vmas if v.inflight]
        assert not stuck or t.result.outcome == "deadlock", (t.scenario, t.kernel, stuck)


def test_a_vma_being_built_is_in_the_snapshot_before_it_is_stored():
    t = record("file-prepare")
    stored = next(e for e in t.events if e.what == "vma_stored")
    before = t.events[stored.seq - 2].snapshot         # inside __mmap_new_vma, not stored yet
    new = [v for v in before.vmas if v.inflight]
    assert [v.id for v in new] == [stored.data["vma"]] and new[0].detached


def test_vmaset_queries():
    views = [VmaView.build(i, A + 3 * i * P, A + (3 * i + 2) * P) for i in range(1, 300)]
    s = VmaSet(reversed(views))
    assert list(s) == views and len(s) == 299 and s[0] is views[0] and s[-1] is views[-1]
    assert s.get(150) is views[149] and s.get(999) is None
    assert s.range(views[10].start + P, views[12].start + 1) == views[10:13]
    t = s.with_changes([views[5]], [VmaView.build(5, views[5].start, views[5].end, 7)])
    assert t.get(5).pgoff == 7 and s.get(5).pgoff == 0 and len(t) == 299


def test_recorder_is_the_only_hook_and_detaches():
    w = mmviz.World()
    rec = Recorder(w)
    assert w.hook is rec
    w.mmap(A, P, 3, mmviz.MAP_PRIVATE | mmviz.MAP_ANONYMOUS | mmviz.MAP_FIXED)
    t = rec.finish("x", "", "", A)
    assert w.hook is None and len(t.events) > 5 and len(t.final.vmas) == 1


def test_a_second_address_space_is_recorded_and_round_trips():
    """Every process's VMAs are in the snapshot (fork and two-process scenarios build on it)."""
    from mmviz.model.mm_types import mm_struct
    from mmviz.model.task import files_struct
    from mmviz.trace import Trace
    w = mmviz.World()
    w.mmap(A, P, 3, mmviz.MAP_PRIVATE | mmviz.MAP_ANONYMOUS | mmviz.MAP_FIXED)
    other = w.new_task(mm_struct(w, 2), files_struct(), "other")
    rec = Recorder(w)
    main, w.current = w.current, other
    w.mmap(A, 2 * P, 1, mmviz.MAP_PRIVATE | mmviz.MAP_ANONYMOUS | mmviz.MAP_FIXED)
    w.current = main
    t = rec.finish("x", "", "", A)
    assert [v.mm for v in t.final.vmas] == [1] and t.final.vmas[0].end == A + P
    ((pid, vmas),) = t.final.others
    assert pid == 2 and [(v.start, v.end, v.mm) for v in vmas] == [(A, A + 2 * P, 2)]
    assert {e.task for e in t.events} == {2}
    back = Trace.from_json(t.to_json())
    assert back.final.spaces == t.final.spaces and back.to_json() == t.to_json()
