"""fork, the anon_vma tree and rmap walks: spec §3 acceptance sequences F1-F9 (verified on
Linux 6.18.44), the anon_vma_chain structure, copy-on-write, and the rmap view's data."""

import pytest

import mmviz
from mmviz import (MADV_DODUMP, MADV_DONTDUMP, MADV_DONTFORK, MADV_KEEPONFORK, MADV_WIPEONFORK,
                   MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, PROT_READ)
from mmviz.model.mm_types import vma_is_fork_child

from spec_window import ANON, MF, RW, A, P, ok, pg, spans


def both(parent, child, fn):
    fn(parent)
    fn(child)


def test_f1_a_fork_child_cannot_absorb_a_new_neighbour():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    c = w.fork()
    both(w, c, lambda p: p.mmap(pg(4), 4 * P, RW, ANON))
    assert spans(w) == [(0, 8)]
    assert spans(c) == [(0, 4), (4, 8)]
    ok(w, c)


def test_f2_an_unfaulted_vma_merges_in_both():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.read(pg(0))                     # a read maps the zero page: still no anon_vma
    c = w.fork()
    both(w, c, lambda p: p.mmap(pg(4), 4 * P, RW, ANON))
    assert spans(w) == spans(c) == [(0, 8)]
    ok(w, c)


def test_f3_mprotect_cannot_join_a_fork_child_to_an_unfaulted_neighbour():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    w.mmap(pg(4), 4 * P, PROT_READ, ANON)
    c = w.fork()
    both(w, c, lambda p: p.mprotect(pg(4), 4 * P, RW))
    assert spans(w) == [(0, 8)]
    assert spans(c) == [(0, 4), (4, 8)]
    ok(w, c)


def test_f4_one_parent_anon_vma_becomes_two_in_the_child():
    w = mmviz.World()
    w.mmap(pg(0), 8 * P, RW, ANON)
    w.touch(pg(0))
    w.mprotect(pg(4), 4 * P, PROT_READ)
    a, b = w.vmas(pg(0), pg(8))
    assert a.anon_vma is b.anon_vma
    c = w.fork()
    ca, cb = c.vmas(pg(0), pg(8))
    assert ca.anon_vma is not cb.anon_vma        # the second could not reuse the first's
    both(w, c, lambda p: p.mprotect(pg(4), 4 * P, RW))
    assert spans(w) == [(0, 8)]
    assert spans(c) == [(0, 4), (4, 8)]
    ok(w, c)


def test_f5_a_split_keeps_one_anon_vma_so_it_merges_back():
    w = mmviz.World()
    w.mmap(pg(0), 8 * P, RW, ANON)
    w.touch(pg(0))
    c = w.fork()
    both(w, c, lambda p: (p.mprotect(pg(2), 2 * P, PROT_READ), p.mprotect(pg(2), 2 * P, RW)))
    assert spans(w) == spans(c) == [(0, 8)]
    ok(w, c)


def test_f6_wipeonfork_gives_the_child_zeroed_unfaulted_memory():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0), 7)
    assert w.madvise(pg(0), 4 * P, MADV_WIPEONFORK) == 0
    w.mmap(pg(4), 4 * P, RW, ANON)
    c = w.fork()
    assert w.load(pg(0)) == 7 and c.load(pg(0)) == 0
    both(w, c, lambda p: p.madvise(pg(0), 4 * P, MADV_KEEPONFORK))
    assert spans(w) == spans(c) == [(0, 8)]
    ok(w, c)


def test_f6c_dontdump_does_not_wipe():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0), 7)
    assert w.madvise(pg(0), 4 * P, MADV_DONTDUMP) == 0
    w.mmap(pg(4), 4 * P, RW, ANON)
    c = w.fork()
    assert w.load(pg(0)) == 7 and c.load(pg(0)) == 7
    both(w, c, lambda p: p.madvise(pg(0), 4 * P, MADV_DODUMP))
    assert spans(w) == [(0, 8)]
    assert spans(c) == [(0, 4), (4, 8)]
    ok(w, c)


def test_f7_an_mremap_copy_of_a_fork_child_may_not_give_its_anon_vma_away():
    w = mmviz.World()
    w.mmap(pg(20), 4 * P, RW, ANON)
    w.touch(pg(20))
    c = w.fork()

    def moves(p):
        assert p.mremap(pg(20), 4 * P, 4 * P, MF, pg(0)) == pg(0)
        p.mmap(pg(24), 4 * P, RW, ANON)
        assert p.mremap(pg(0), 4 * P, 4 * P, MF, pg(20)) == pg(20)
    both(w, c, moves)
    assert spans(w) == [(20, 28)]
    assert spans(c) == [(20, 24), (24, 28)]
    ok(w, c)


def test_f8_dontunmap_of_a_whole_vma_leaves_it_unfaulted_so_it_merges():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    c = w.fork()
    assert c.mremap(pg(0), 4 * P, 4 * P, MF | MREMAP_DONTUNMAP, pg(20)) == pg(20)
    c.mmap(pg(4), 4 * P, RW, ANON)
    assert spans(c) == [(0, 8), (20, 24)]
    ok(w, c)


def test_f9_a_grandchild_is_a_fork_child_too():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    c = w.fork()
    g = c.fork()
    g.mmap(pg(4), 4 * P, RW, ANON)
    assert spans(g) == [(0, 4), (4, 8)]
    (gv,) = g.vmas(pg(0), pg(4))
    assert len(gv.anon_vma_chain) == 3
    ok(w, c, g)


def test_dontfork_is_a_hole_in_the_child_and_mlock_is_not_inherited():
    w = mmviz.World(cap_ipc_lock=True)
    w.mmap(pg(0), 8 * P, RW, ANON)
    assert w.madvise(pg(2), 2 * P, MADV_DONTFORK) == 0
    assert w.mlock(pg(4), 4 * P) == 0
    c = w.fork()
    assert spans(w) == [(0, 2), (2, 4), (4, 8)]
    assert spans(c) == [(0, 2), (4, 8)]
    assert c.mm.locked_vm == 0 and all("lo" not in f for _, _, f in c.smaps_flags())
    ok(w, c)


def test_anon_vma_tree_counters_and_chains():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    (pv,) = w.vmas(pg(0), pg(4))
    root = pv.anon_vma
    assert (root.root, root.parent, root.num_children, root.num_active_vmas) == (root, root, 1, 1)
    c = w.fork()
    (cv,) = c.vmas(pg(0), pg(4))
    own = cv.anon_vma
    assert own.root is root and own.parent is root
    assert [l.anon_vma for l in cv.anon_vma_chain] == [own, root]     # newest first
    assert root.num_children == 2 and own.num_children == 0
    assert vma_is_fork_child(cv) and not vma_is_fork_child(pv)
    assert len(pv.anon_vma_chain) == 1                     # fork leaves the parent alone
    c.exit()
    assert own.freed and root.num_children == 1 and not root.freed
    ok(w)


def test_a_middle_generation_exit_lets_the_grandchild_s_child_reuse_an_anon_vma():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    c = w.fork()
    g = c.fork()
    (cv,) = c.vmas(pg(0), pg(4))
    middle = cv.anon_vma
    c.exit()                                       # middle: no VMA, still in g's chain
    assert not middle.freed and middle.num_active_vmas == 0 and middle.num_children == 1
    gg = g.fork()                                  # may reuse the middle anon_vma
    (ggv,) = gg.vmas(pg(0), pg(4))
    assert ggv.anon_vma is middle
    ok(w, g, gg)


def test_copy_on_write_in_child_and_parent():
    w = mmviz.World()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.touch(pg(0), 1)
    c = w.fork()
    (pv,) = w.vmas(pg(0), pg(2))
    (cv,) = c.vmas(pg(0), pg(2))
    shared = w.mm.ptes[pg(0)]
    assert c.mm.ptes[pg(0)] is shared and shared.mapcount == 2
    c.touch(pg(0), 2)                              # the child copies
    assert w.load(pg(0)) == 1 and c.load(pg(0)) == 2
    assert c.mm.ptes[pg(0)].mapping is cv.anon_vma        # into its own anon_vma
    assert shared.mapcount == 1
    w.touch(pg(0), 3)                              # the parent is alone now: no copy
    assert w.mm.ptes[pg(0)] is shared and shared.mapping is pv.anon_vma
    ok(w, c)


def test_fds_are_inherited_as_the_same_open_files():
    w = mmviz.World()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 8 * P)
    f = w.fds[fd]
    c = w.fork()
    assert c.fds[fd] is f and f.f_count == 2
    assert c.mmap(pg(0), 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == pg(0)
    c.touch(pg(0), 5)
    assert w.mmap(pg(10), 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == pg(10)
    assert w.load(pg(10)) == 5                     # the same page cache
    assert c.close(fd) == 0 and fd in w.fds
    ok(w, c)


def test_rmap_walk_of_an_anon_page_visits_parent_and_child():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(1), 1)
    c = w.fork()
    walk = w.rmap_walk(pg(1))
    assert walk.kind == "anon" and walk.index == pg(1) // P
    assert [(v.pid, v.mapped) for v in walk.visits] == [(1, True), (c.pid, True)]
    c.touch(pg(1), 2)                              # the child copies into its anon_vma
    walk = w.rmap_walk(pg(1))
    assert [(v.pid, v.mapped) for v in walk.visits] == [(1, True), (c.pid, False)]
    cw = c.rmap_walk(pg(1))                        # its copy is found from the child only
    assert [(v.pid, v.mapped) for v in cw.visits] == [(c.pid, True)]
    assert {n.id for n in cw.tree} == {walk.anon_vma, cw.anon_vma}
    ok(w, c)


def test_rmap_walk_of_a_file_page_puts_the_child_right_after_the_parent():
    w = mmviz.World()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 8 * P)
    w.mmap(pg(0), 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    w.mmap(pg(10), 4 * P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0)
    w.touch(pg(1))
    c = w.fork()
    walk = w.rmap_walk(pg(1))
    assert walk.kind == "file"
    order = [(v.pid, (v.start - A) // P) for v in walk.visits]
    assert order == [(1, 0), (c.pid, 0), (1, 10), (c.pid, 10)]
    assert [v.mapped for v in walk.visits] == [True, False, False, False]


def test_rmap_walk_of_a_never_written_page_finds_nothing():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    walk = w.rmap_walk(pg(0))
    assert walk.kind == "none" and walk.visits == () and walk.reason


def test_exited_process_refuses_calls():
    w = mmviz.World()
    c = w.fork()
    c.exit()
    with pytest.raises(mmviz.InputError):
        c.mmap(pg(0), P, RW, ANON)
