"""Trace JSON: the documented top-level keys, and one-line rejection of bad input."""

import json

import pytest

from mmviz.scenarios import record
from mmviz.trace import Trace, TraceFormatError
from mmviz.trace.jsonio import MAX_BYTES


@pytest.fixture(scope="module")
def doc():
    return json.loads(record("mapped-fail-hidden", kernel="v3").to_json())


def test_top_level_and_event_fields(doc):
    for key in ("format", "version", "scenario", "kernel", "config", "result", "files",
                "vm_ops", "initial", "events", "violations", "final"):
        assert key in doc
    assert doc["format"] == "mmviz-trace" and doc["version"] == 2
    assert set(doc["result"]) >= {"ret", "errno", "outcome"}
    for e in doc["events"]:
        assert {"seq", "task", "kind", "fn", "what", "depth", "data", "stack", "locks_held",
                "set", "del", "map_count"} <= set(e)
        assert "msg" not in e             # sentences are made from what + data when read
    kinds = {e["kind"] for e in doc["events"]}
    assert {"call", "return", "lock", "unlock", "hook", "vma", "note", "violation"} <= kinds
    assert any("mmap_lock" in lk for e in doc["events"] for lk in e["locks_held"])
    assert any("vma" in lk for e in doc["events"] for lk in e["locks_held"])
    (v,) = doc["violations"]
    assert set(v) == {"kind", "lock", "seq"} and "i_mmap" in v["lock"]
    assert set(doc["final"]) >= {"set", "del", "map_count"}


def test_vma_arrays_and_per_event_changes():
    t = record("remap-pfn")
    d = json.loads(t.to_json())
    stored = next(e for e in d["events"] if e["what"] == "vma_stored")
    (a,) = stored["set"]                 # only the VMA that changed is written
    vid, start, end, pgoff, flags, file, anon_vma, vm_ops, state = a
    assert (start, end) == (0x10000000, 0x10004000)
    assert flags & 0x400 and d["files"][file].startswith("/dev/fb0")   # VM_PFNMAP
    assert vm_ops is None and state & 1      # write-locked; S8 has not set vm_ops yet
    s8 = next(e for e in d["events"] if e["data"].get("step") == "S8")
    after = [x for e in d["events"][s8["seq"]:] for x in e["set"] if x[0] == vid]
    assert d["vm_ops"][after[0][7]] == "fb0_vm_ops"
    assert sum(len(e["set"]) + len(e["del"]) for e in d["events"]) < 3 * len(d["events"])
    back = Trace.from_json(t.to_json())
    assert [e.snapshot.vmas for e in back.events] == [e.snapshot.vmas for e in t.events]
    assert back.final.vmas == t.final.vmas and back.to_json() == t.to_json()


def test_version_1_files_still_load():
    import pathlib
    from mmviz.render.narration import sentence
    path = pathlib.Path(__file__).parent / "data" / "trace-v1-mapped-fail-hidden-v3.json"
    t = Trace.from_json(path.read_text())
    assert t.kernel == "v3" and t.result.errno == "ENOMEM"
    assert [v.kind for v in t.violations] == ["unlock-not-held"]
    assert sentence(t[0], t.kernel) == "before the call: no VMAs"
    stored = next(e for e in t.events if "stored in the VMA tree" in sentence(e, t.kernel))
    assert stored.snapshot.vma(1).write_locked and 1 in stored.snapshot.changed
    assert json.loads(t.to_json())["version"] == 2          # and it saves as version 2


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.update(version=4), "version"),
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.pop("events"), "events"),
    (lambda d: d["events"][0].update(kind="dance"), "kind"),
    (lambda d: d["events"][0].update(seq=7), "seq"),
    (lambda d: d["final"]["set"].append([1]), "final.set"),
    (lambda d: d["violations"].append({"kind": "oops", "lock": "x", "seq": 0}), "kind"),
    (lambda d: d["result"].update(ret="twelve"), "ret"),
])
def test_bad_json_is_rejected_with_one_line(doc, mutate, words):
    bad = json.loads(json.dumps(doc))
    mutate(bad)
    with pytest.raises(TraceFormatError) as err:
        Trace.from_json(json.dumps(bad))
    msg = str(err.value)
    assert "\n" not in msg and words in msg


def test_not_json_and_oversized():
    with pytest.raises(TraceFormatError, match="not valid JSON"):
        Trace.from_json("{nope")
    with pytest.raises(TraceFormatError, match="limit"):
        Trace.from_json(" " * (MAX_BYTES + 1))
    with pytest.raises(TraceFormatError):
        Trace.from_json("[]")
