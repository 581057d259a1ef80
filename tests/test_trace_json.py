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
    for key in ("format", "version", "scenario", "kernel", "config", "result", "events",
                "violations", "final"):
        assert key in doc
    assert doc["format"] == "mmviz-trace" and doc["version"] == 1
    assert set(doc["result"]) >= {"ret", "errno"}
    for e in doc["events"]:
        assert {"seq", "kind", "fn", "depth", "locks_held", "msg"} <= set(e)
    kinds = {e["kind"] for e in doc["events"]}
    assert {"call", "return", "lock", "unlock", "hook", "vma", "note", "violation"} <= kinds
    assert any("mmap_lock" in lk for e in doc["events"] for lk in e["locks_held"])
    assert any("vma" in lk for e in doc["events"] for lk in e["locks_held"])
    (v,) = doc["violations"]
    assert {"kind", "lock", "seq", "message"} <= set(v) and "i_mmap" in v["lock"]
    assert set(doc["final"]) >= {"vmas", "map_count"}


def test_final_vma_fields():
    d = json.loads(record("remap-pfn").to_json())
    (v,) = d["final"]["vmas"]
    assert {"start", "end", "pgoff", "flags", "file"} <= set(v)
    assert "VM_PFNMAP" in v["flags"] and v["file"].startswith("/dev/fb0")


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.pop("events"), "events"),
    (lambda d: d["events"][0].update(kind="dance"), "kind"),
    (lambda d: d["events"][0].update(seq=7), "seq"),
    (lambda d: d["final"]["vmas"].append({"id": 1}), "final.vmas"),
    (lambda d: d["violations"].append({"kind": "oops", "lock": "x", "seq": 0, "message": ""}), "kind"),
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
