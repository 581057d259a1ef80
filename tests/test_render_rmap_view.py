"""The rmap view renders walks of anonymous and file pages, and every event of the new
calls (mremap, fork, madvise, mlock, brk, rmap walks) has its sentence in the narration."""

import ast
import pathlib

import mmviz
from mmviz import (MADV_DONTFORK, MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE,
                   MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_NONE,
                   PROT_READ, PROT_WRITE)
from mmviz.render.narration import known_whats, sentence
from mmviz.render.rmap_view import rmap_walk_figure, rmap_walk_png, rmap_walk_svg, rmap_walk_text
from mmviz.trace import Recorder, take_snapshot

P = 4096
A = 0x10000000
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
MOVE = MREMAP_MAYMOVE | MREMAP_FIXED
MODEL = pathlib.Path(mmviz.__file__).parent / "model"


def _forked_world():
    w = mmviz.World()
    w.mmap(A, 8 * P, RW, ANON)
    w.touch(A + P, 1)
    w.mmap(A + 12 * P, 2 * P, PROT_READ, ANON)
    c = w.fork()
    g = c.fork()
    c.mremap(A, 8 * P, 8 * P, MOVE, A + 20 * P)
    g.touch(A + P, 3)
    return w, c, g


def test_anon_walk_text_and_pictures():
    w, c, g = _forked_world()
    walk = w.rmap_walk(A + P)
    text = rmap_walk_text(walk)
    assert "rmap_walk_anon visits" in text
    assert f"process {g.pid} vma#" in text and "not mapped" in text
    assert f"process {c.pid}" in text and "at 0x10015000: maps it" in text
    assert [n.parent for n in walk.tree][0] is None and len(walk.tree) == 3
    fig = rmap_walk_figure(walk, take_snapshot(w))
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert any(t.startswith(f"process {c.pid}") for t in texts)
    assert any("anon_vma#1 (root)" in t for t in texts)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0].startswith("visited: maps the page") and "not visited" in legend
    png = rmap_walk_png(walk, take_snapshot(w))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    svg = rmap_walk_svg(walk)
    assert "rmap_walk_anon" in svg and "vma#" in svg


def test_file_walk_and_nothing_to_walk():
    w = mmviz.World()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 8 * P)
    w.mmap(A, 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    w.touch(A)
    c = w.fork()
    walk = c.rmap_walk(A)
    assert walk.kind == "file" and walk.pid == c.pid
    assert "rmap_walk_file visits" in rmap_walk_text(walk)
    assert b"PNG" in rmap_walk_png(walk)
    w.mmap(A + 10 * P, P, RW, ANON)
    none = w.rmap_walk(A + 10 * P)
    assert none.kind == "none" and "never written" in rmap_walk_text(none)
    assert b"PNG" in rmap_walk_png(none)


def _emitted_whats():
    for path in MODEL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("emit", "kernel_bug") and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)):
                yield path.name, node.args[1].value


def test_every_literal_emit_of_the_model_has_a_sentence():
    missing = {(f, w) for f, w in _emitted_whats() if w not in known_whats()}
    assert not missing, missing


def test_every_event_of_the_new_calls_reads_as_a_sentence():
    w = mmviz.World(cap_ipc_lock=True)
    fd = w.memfd_create("m")
    w.ftruncate(fd, 8 * P)
    rec = Recorder(w, validate=True)
    w.mmap(A, 8 * P, RW, ANON)
    w.touch(A, 1)
    w.mlock(A, 4 * P)
    w.mremap(A, 4 * P, 4 * P, MOVE | MREMAP_DONTUNMAP, A + 20 * P)   # locked_vm over-count
    w.mremap(A + 4 * P, 4 * P, 2 * P, MOVE, A + 30 * P)              # the FIXED shrink charge
    w.mremap(A + 30 * P, 2 * P, 6 * P, 0)
    w.mremap(A + 20 * P, 0, 2 * P, MOVE, A + 40 * P)                  # duplicate: -EINVAL
    w.madvise(A + 20 * P, P, MADV_DONTFORK)
    w.madvise(A, 64 * P, MADV_DONTNEED)                                # holes
    w.mmap(A + 50 * P, 2 * P, PROT_NONE, ANON)
    w.mlock(A + 50 * P, 2 * P)
    w.mmap(A + 60 * P, 4 * P, RW, MAP_PRIVATE | MAP_FIXED, fd, 0)
    w.touch(A + 61 * P, 5)
    c = w.fork()
    c.touch(A + 61 * P, 2)
    w.rmap_walk(A + 61 * P)
    w.rmap_walk(A + 50 * P)
    w.ftruncate(fd, P)
    w.brk(w.brk(0) + 3 * P)
    w.brk(0x1000)
    c.exit()
    t = rec.finish("x", "", "", 0)
    whats = {e.what for e in t.events}
    assert {"anon_vma_forked", "cow_copy", "dontunmap_locked_vm", "mremap_shrink_overcharge",
            "rmap_walk_start", "rmap_walk_visit", "madvise_hole", "fork_dontcopy", "mm_exited",
            "brk_moved", "brk_refused", "truncate_pages", "zap_range", "mremap_duplicate_private"} <= whats
    for e in t.events:
        assert e.what in known_whats(), e.what
        text = sentence(e, t.kernel)
        assert text and not text.startswith(f"{e.fn}: {e.what}"), (e.what, text)
