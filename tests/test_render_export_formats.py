"""Perfetto / Chrome Trace Event JSON and the VMA CSV."""

import csv
import io
import json

import pytest

from mmviz.render.export_formats import CSV_FIELDS, perfetto_json, vma_csv
from mmviz.render.timeline import lock_intervals
from mmviz.scenarios import names, record

REQUIRED = ("name", "ph", "ts", "pid", "tid")
PHASES = {"B", "E", "X", "i", "I", "M", "C"}


def check_trace_event_format(doc):
    """The Trace Event Format's rules that Perfetto and chrome://tracing rely on."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    assert doc["displayTimeUnit"] in ("ms", "ns")
    stacks = {}
    last_ts = {}
    for ev in doc["traceEvents"]:
        for key in REQUIRED:
            assert key in ev, (key, ev)
        assert ev["ph"] in PHASES, ev
        assert isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int)
        if ev["ph"] in ("i", "I"):
            assert ev.get("s", "t") in ("t", "p", "g")
        if ev["ph"] == "X":
            assert ev["dur"] >= 0
        if ev["ph"] in ("B", "E"):
            track = (ev["pid"], ev["tid"])
            assert ev["ts"] >= last_ts.get(track, 0), ("time goes back on a track", ev)
            last_ts[track] = ev["ts"]
            stack = stacks.setdefault(track, [])
            if ev["ph"] == "B":
                stack.append(ev["name"])
            else:
                assert stack, ("E without B", ev)
                assert stack.pop() == ev["name"], ("E closes another slice", ev)
    for track, stack in stacks.items():
        assert not stack, ("B without E", track, stack)
    return doc


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("kernel", ["baseline", "v3", "v4"])
def test_every_trace_is_valid_and_balanced(name, kernel):
    t = record(name, kernel=kernel, nommu=name.startswith("nommu"))
    check_trace_event_format(json.loads(perfetto_json(t)))


def test_locks_are_tracks_with_one_slice_per_hold():
    t = record("mapped-fail-hidden", kernel="v3")
    doc = check_trace_event_format(json.loads(perfetto_json(t)))
    evs = doc["traceEvents"]
    threads = {e["tid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
    assert "call stack" in threads.values()
    for iv in lock_intervals(t):
        tid = next(k for k, v in threads.items() if v == iv.lock)
        b = [e for e in evs if e["tid"] == tid and e["ph"] == "B" and e["ts"] == iv.start * 1000]
        e_ = [e for e in evs if e["tid"] == tid and e["ph"] == "E" and e["ts"] == iv.end * 1000]
        assert b and e_, iv
    assert any(e["ph"] == "M" and e["name"] == "process_name" for e in evs)


def test_hooks_and_violations_are_instant_events():
    t = record("mapped-fail-hidden", kernel="v3")
    evs = json.loads(perfetto_json(t))["traceEvents"]
    hooks = [e for e in evs if e["ph"] == "i" and e.get("cat") == "hook"]
    assert [h["name"] for h in hooks] == ["f_op->mmap_prepare", "vm_ops->mapped"]
    v = t.violations[0]
    glob = [e for e in evs if e["ph"] == "i" and e.get("s") == "g"]
    assert len(glob) == 1 and glob[0]["ts"] == v.seq * 1000
    assert "DOUBLE UNLOCK" in glob[0]["name"] and v.lock in glob[0]["name"]


def test_deadlock_closes_every_open_slice_at_the_end():
    t = record("action-fail-hidden", kernel="baseline")
    evs = check_trace_event_format(json.loads(perfetto_json(t)))["traceEvents"]
    ends = [e for e in evs if e["ph"] == "E" and e["ts"] == len(t) * 1000]
    assert any(e["args"].get("never_returned") for e in ends)
    assert any(e["args"].get("never_released") for e in ends)


def test_call_stack_slices_match_calls():
    t = record("file-prepare")
    evs = json.loads(perfetto_json(t))["traceEvents"]
    calls = [e for e in t.events if e.kind == "call" or (e.kind == "hook" and e.data.get("phase") == "enter")]
    begins = [e for e in evs if e["ph"] == "B" and e["tid"] == 1]
    assert [(e["name"], e["ts"]) for e in begins] == [(c.fn, c.seq * 1000) for c in calls]


def test_vma_csv_rows():
    t = record("fixed-replace")
    rows = list(csv.DictReader(io.StringIO(vma_csv(t.final))))
    assert tuple(rows[0].keys()) == CSV_FIELDS
    assert len(rows) == len(t.final.vmas) == 3
    for row, v in zip(rows, t.final.vmas):
        assert int(row["start"], 16) == v.start and int(row["end"], 16) == v.end
        assert int(row["size"]) == v.end - v.start
        assert row["perms"] == v.perms and int(row["pgoff"]) == v.pgoff
        assert row["file"] == (v.file or "")
        assert row["flags"].split("|") == list(v.flags)
    assert vma_csv(record("prepare-fail").final).strip() == ",".join(CSV_FIELDS)
