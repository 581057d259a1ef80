"""The call graph: DOT structure, pointer edges, ×N merging, highlight, and the no-dot fallback."""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from mmviz.render import callgraph as cg
from mmviz.render.callgraph import (CURRENT_FILL, call_tree, callgraph_dot, callgraph_svg,
                                    fallback_svg)
from mmviz.scenarios import record

NODE = re.compile(r'^\s*n(\d+) \[(.*)\];$', re.M)
EDGE = re.compile(r'^\s*n(\d+) -> n(\d+) \[(.*)\];$', re.M)


@pytest.fixture(scope="module")
def trace():
    return record("mapped-fail-hidden", kernel="v3")


def parse(dot):
    nodes = {int(m[1]): m[2] for m in NODE.finditer(dot)}
    edges = {(int(m[1]), int(m[2])): m[3] for m in EDGE.finditer(dot)}
    return nodes, edges


def label_of(attrs):
    return re.search(r"label=<(.*?)>(, |$)", attrs)[1]


def test_dot_has_the_modelled_call_tree(trace):
    dot = callgraph_dot(trace)
    assert dot.startswith("digraph callgraph {") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    names = {re.split(r"<BR/>|  ×", label_of(a))[0] for a in nodes.values()}
    for fn in ("ksys_mmap_pgoff", "do_mmap", "__mmap_region", "call_mmap_prepare",
               "call_mapped_hook", "do_munmap", "f_op-&gt;mmap_prepare", "vm_ops-&gt;mapped"):
        assert fn in names, fn
    # a tree: every node but the root has exactly one incoming edge
    children = [c for _, c in edges]
    assert sorted(children) == sorted(set(nodes) - {0})


def test_pointer_calls_are_dashed_edges_labelled_via_pointer(trace):
    tree = call_tree(trace)
    nodes, edges = parse(callgraph_dot(trace, tree=tree))
    pointer = {n.id for n in tree.nodes if n.pointer}
    assert {tree.nodes[i].fn for i in pointer} == {"f_op->mmap_prepare", "vm_ops->mapped"}
    for (parent, child), attrs in edges.items():
        if child in pointer:
            assert "style=dashed" in attrs and 'label="via pointer"' in attrs
        else:
            assert "dashed" not in attrs and "via pointer" not in attrs
    # the hook's caller: vm_ops->mapped hangs under call_mapped_hook
    mapped = next(n for n in tree.nodes if n.fn == "vm_ops->mapped")
    assert tree.nodes[mapped.parent].fn == "call_mapped_hook"
    assert "-ENOMEM" in label_of(nodes[mapped.id])


def test_repeated_calls_merge_into_one_node_with_a_count():
    t = record("fixed-replace")
    tree = call_tree(t)
    splits = [n for n in tree.nodes if n.fn == "__split_vma"]
    assert len(splits) == 1 and splits[0].count == 2
    calls = sum(1 for e in t.events if e.kind == "call" and e.fn == "__split_vma")
    assert calls == 2
    nodes, _ = parse(callgraph_dot(t, tree=tree))
    assert "__split_vma  ×2" in label_of(nodes[splits[0].id])
    # node count stays the size of the code path
    assert len(tree.nodes) < sum(1 for e in t.events if e.kind in ("call", "hook")) + 1


def test_cursor_highlights_the_current_frame_and_its_path(trace):
    v = trace.violations[0].seq                      # inside call_mapped_hook
    tree = call_tree(trace)
    cur = tree.active[v]
    assert tree.nodes[cur].fn == "call_mapped_hook"
    nodes, edges = parse(callgraph_dot(trace, cursor=v, tree=tree))
    assert f'fillcolor="{CURRENT_FILL}"' in nodes[cur] and "penwidth=3" in nodes[cur]
    others = [i for i, a in nodes.items() if f'fillcolor="{CURRENT_FILL}"' in a]
    assert others == [cur]
    for nid in tree.path(cur)[1:]:
        assert "penwidth" in edges[(tree.nodes[nid].parent, nid)]
    # no cursor: nothing highlighted
    nodes, _ = parse(callgraph_dot(trace))
    assert not any(CURRENT_FILL in a for a in nodes.values())


def test_active_frame_follows_calls_and_hooks(trace):
    tree = call_tree(trace)
    for e in trace.events:
        node = tree.nodes[tree.active[e.seq]]
        if e.kind in ("call", "return") or e.kind == "hook":
            assert node.fn == e.fn, e


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_svg_from_dot_keeps_node_ids(trace):
    svg = callgraph_svg(trace, cursor=10)
    root = ET.fromstring(svg.encode())
    ids = {el.get("id") for el in root.iter()}
    tree = call_tree(trace)
    assert {cg.NODE_ID.format(n.id) for n in tree.nodes} <= ids
    assert "simplified drawing" not in svg
    assert "via pointer" in svg


def test_fallback_without_dot(trace, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)

    def no_subprocess(*a, **k):
        raise AssertionError("must not run a subprocess without dot")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    svg = callgraph_svg(trace, cursor=trace.violations[0].seq)
    assert "simplified drawing (Graphviz not installed)" in svg
    root = ET.fromstring(svg.encode())
    ids = {el.get("id") for el in root.iter()}
    tree = call_tree(trace)
    assert {cg.NODE_ID.format(n.id) for n in tree.nodes} <= ids
    assert {cg.EDGE_ID.format(n.id) for n in tree.nodes[1:]} <= ids
    # pointer edges dashed and labelled in the fallback too
    for n in tree.nodes[1:]:
        g = next(el for el in root.iter() if el.get("id") == cg.EDGE_ID.format(n.id))
        path = next(el for el in g.iter() if el.tag.endswith("path"))
        assert ("stroke-dasharray" in path.attrib) == n.pointer
    assert svg.count(">via pointer<") == sum(1 for n in tree.nodes if n.pointer)
    # the current frame is highlighted
    cur = tree.active[trace.violations[0].seq]
    g = next(el for el in root.iter() if el.get("id") == cg.NODE_ID.format(cur))
    rect = next(el for el in g.iter() if el.tag.endswith("rect"))
    assert rect.get("fill") == CURRENT_FILL


def test_fallback_when_dot_fails(trace, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/bin/false")
    svg = callgraph_svg(trace)
    assert "simplified drawing (Graphviz failed" in svg
    ET.fromstring(svg.encode())


def test_fallback_for_every_kind_of_trace():
    for name, kernel in (("action-fail-hidden", "baseline"), ("nommu-remap", "v3"), ("anon-new", "v4")):
        t = record(name, kernel=kernel, nommu=name.startswith("nommu"))
        ET.fromstring(fallback_svg(t, cursor=len(t) - 1).encode())
