"""The trace loader against hostile and broken input: only TraceFormatError, bounded memory.

Mutations of real traces (Hypothesis) either load — and then every sentence and the text
transcript can be made from them — or raise TraceFormatError with one line. Nothing else
escapes: no RecursionError, ValueError, TypeError, KeyError, AttributeError.
"""

import copy
import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mmviz.render.narration import sentence
from mmviz.render.text import transcript
from mmviz.scenarios import record
from mmviz.trace import Trace, TraceFormatError
from mmviz.trace.checks import MAX_NODES

SOURCES = {name: json.loads(record(name, kernel="v3").to_json())
           for name in ("mapped-fail-hidden", "fixed-replace", "compat-stacked")}
WEIRD = [None, True, False, 0, -1, 1 << 70, -(1 << 70), 1e300, "", "x" * 3000, "\ud800",
         "<script>", [], [[]], {}, {"a": {}}, [1, "2", None], {"vmas": 5}, 12345678901234567890]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:12]):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    if isinstance(obj, dict):
        obj[path[-1]] = value
    else:
        obj[path[-1]] = value


def _delete(obj, path):
    for p in path[:-1]:
        obj = obj[p]
    del obj[path[-1]]


def _load_and_use(text):
    try:
        t = Trace.from_json(text)
    except TraceFormatError as e:
        assert "\n" not in str(e)
        return None
    for e in t.events:
        assert isinstance(sentence(e, t.kernel), str)
    assert isinstance(transcript(t), str)
    return t


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SOURCES)), st.data())
def test_mutated_traces_load_cleanly_or_raise_one_line(name, data):
    doc = copy.deepcopy(SOURCES[name])
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        if data.draw(st.booleans()):
            # a copy: a later deletion inside the inserted list must not change WEIRD itself
            _set(doc, path, copy.deepcopy(data.draw(st.sampled_from(WEIRD))))
        else:
            try:
                _delete(doc, path)
            except (KeyError, IndexError, TypeError):
                pass
    _load_and_use(json.dumps(doc))


@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ('{"format":"mmviz-trace","version":2,"x":' + "9" * 5000 + "}", "cannot read"),
    ('{"format":"mmviz-trace","version":2,"files":5}', "trace JSON"),
    ("\ud800", "trace JSON"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_hostile_texts(text, words):
    with pytest.raises(TraceFormatError, match=words):
        Trace.from_json(text)


def test_type_confused_fields_are_refused():
    base = SOURCES["mapped-fail-hidden"]
    cases = {
        "a dict for a VMA's file": lambda d: d["initial"].update(vmas=[[1, 0, 4096, 0, 0, {"x": 1}, None, None, 0]]),
        "a list for params": lambda d: d["events"][20].update(pending_action={"type": "X", "params": [1]}),
        "a violation at seq 1e9": lambda d: d["violations"][0].update(seq=10 ** 9),
        "a surrogate in a title": lambda d: d.update(title="\ud800"),
        "a VMA ending before it starts": lambda d: d["initial"].update(vmas=[[1, 8192, 4096, 0, 0, None, None, None, 0]]),
        "unknown VM_* bits": lambda d: d["initial"].update(vmas=[[1, 0, 4096, 0, 1 << 62, None, None, None, 0]]),
        "a deleted VMA that never existed": lambda d: d["events"][3].update({"del": [999]}),
    }
    for what, mutate in cases.items():
        doc = copy.deepcopy(base)
        mutate(doc)
        with pytest.raises(TraceFormatError):
            Trace.from_json(json.dumps(doc))
            pytest.fail(what)


def test_sixty_mib_of_empty_lists_is_refused_without_parsing_it():
    text = '{"format":"mmviz-trace","version":2,"events":[' + "[]," * (20 * 1024 * 1024) + "[]]}"
    assert len(text) > 60 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(TraceFormatError, match="arrays and objects"):
            Trace.from_json(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak          # the text itself is not copied or parsed
    assert MAX_NODES < 20 * 1024 * 1024
