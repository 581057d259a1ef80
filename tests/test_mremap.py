"""mremap: spec §2 acceptance cases R1-R9 (verified on Linux 6.18.44) and the rules
behind them, on the model. Pages are counted from A; `maps` lists (start page, end page,
perms) of the VMAs in the window."""

import pytest

import mmviz
from mmviz import (MAP_FIXED, MAP_LOCKED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED,
                   MREMAP_MAYMOVE, PROT_READ)
from mmviz.model.errno import Errno
from mmviz.model.vm_flags import VmFlags

from spec_window import ANON, MF, RW, A, P, ok, pg


def maps(w, lo=0, hi=64):
    return [((v.vm_start - A) // P, (v.vm_end - A) // P,
             w.proc_maps(v.vm_start, v.vm_start + 1).split()[1]) for v in w.vmas(pg(lo), pg(hi))]


def spans(w, lo=0, hi=64):
    return [(s, e) for s, e, _ in maps(w, lo, hi)]


def world(**kw):
    return mmviz.World(**kw)



@pytest.fixture
def w04():
    w = world()
    assert w.mmap(pg(0), 4 * P, RW, ANON) == pg(0)
    return w


@pytest.mark.parametrize("call", [
    lambda w: w.mremap(pg(0), 4 * P, 4 * P, 8),
    lambda w: w.mremap(pg(0) + 1, 4 * P, 4 * P, 0),
    lambda w: w.mremap(pg(0), 4 * P, 0, 0),
    lambda w: w.mremap(pg(0), 4 * P, 4 * P, MREMAP_FIXED, pg(20)),
    lambda w: w.mremap(pg(0), 4 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, pg(20)),
    lambda w: w.mremap(pg(0), 4 * P, 4 * P, MF, pg(2)),
], ids=["bad-flag", "unaligned", "new-len-0", "fixed-no-maymove", "dontunmap-resize", "overlap"])
def test_r1_refused_with_einval_before_anything_changes(w04, call):
    assert call(w04) == -Errno.EINVAL
    assert maps(w04) == [(0, 4, "rw-p")]
    ok(w04)


def test_r2_efault_efault_einval(w04):
    assert w04.mremap(pg(10), 2 * P, 4 * P, 0) == -Errno.EFAULT     # no VMA at addr
    assert w04.mremap(pg(0), 6 * P, 8 * P, 0) == -Errno.EFAULT      # old range past the VMA
    assert w04.mremap(pg(0), 0, 4 * P, MF, pg(20)) == -Errno.EINVAL  # duplicate a private one
    assert maps(w04) == [(0, 4, "rw-p")]


def test_r3_a_shrink_unmaps_across_vma_boundaries():
    w = world()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.mmap(pg(4), 4 * P, PROT_READ, ANON)
    assert w.mremap(pg(2), 6 * P, 2 * P, 0) == pg(2)
    assert maps(w) == [(0, 4, "rw-p")]
    ok(w)


def test_r4_grow_in_place_merges_or_fails_without_maymove():
    w = world()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.mmap(pg(6), 2 * P, RW, ANON)
    assert w.mremap(pg(0), 4 * P, 8 * P, 0) == -Errno.ENOMEM
    assert spans(w) == [(0, 4), (6, 8)]
    assert w.mremap(pg(0), 4 * P, 6 * P, 0) == pg(0)
    assert spans(w) == [(0, 8)]
    ok(w)


def test_r5_a_multi_vma_move_keeps_the_gap():
    w = world()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.mmap(pg(3), 2 * P, RW, ANON)
    assert w.mremap(pg(0), 5 * P, 5 * P, MF, pg(20)) == pg(20)
    assert spans(w) == [(20, 22), (23, 25)]
    ok(w)
    w = world()
    w.mmap(pg(1), 2 * P, RW, ANON)
    w.mmap(pg(3), 2 * P, PROT_READ, ANON)
    assert w.mremap(pg(0), 5 * P, 5 * P, MF, pg(20)) == -Errno.EFAULT   # gap at the start
    assert spans(w) == [(1, 3), (3, 5)]


def test_r6_no_resize_no_move_is_a_no_op_even_over_holes():
    w = world()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.mmap(pg(3), 2 * P, RW, ANON)
    assert w.mremap(pg(0), 5 * P, 5 * P, MREMAP_MAYMOVE) == pg(0)
    assert spans(w) == [(0, 2), (3, 5)]


def test_r7_a_faulted_vma_keeps_its_pgoff_when_moved_and_merges_back():
    w = world()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0))
    w.mmap(pg(20), 4 * P, RW, ANON)
    assert w.mremap(pg(0), 4 * P, 4 * P, MF, pg(24)) == pg(24)
    assert spans(w) == [(20, 24), (24, 28)]         # pgoff 0 does not follow pgoff 20+4
    w.mmap(pg(4), 4 * P, RW, ANON)
    assert w.mremap(pg(24), 4 * P, 4 * P, MF, pg(0)) == pg(0)
    assert spans(w) == [(0, 8), (20, 24)]
    assert w.load(pg(0)) == 0x78                   # the data moved with it
    ok(w)


def test_an_unfaulted_vma_takes_the_destination_pgoff_and_merges():
    w = world()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.mmap(pg(20), 4 * P, RW, ANON)
    assert w.mremap(pg(0), 4 * P, 4 * P, MF, pg(24)) == pg(24)
    assert spans(w) == [(20, 28)]
    ok(w)


def test_r8_growth_of_a_locked_vma_past_rlimit_memlock():
    """Checked on 6.18.44 in a child without CAP_IPC_LOCK and RLIMIT_MEMLOCK = 16 pages:
    growing 8 locked pages to 12 is allowed (12 <= 16; spec R8's table says EAGAIN, the
    kernel does not), a MAP_LOCKED mapping of 8 more then is not, 4 more are."""
    w = world(rlimit_memlock_pages=16)
    w.mmap(pg(0), 8 * P, RW, ANON)
    assert w.mlock(pg(0), 8 * P) == 0
    assert w.mremap(pg(0), 8 * P, 12 * P, 0) == pg(0)
    assert w.mm.locked_vm == 12
    assert w.mmap(pg(20), 8 * P, RW, ANON | MAP_LOCKED) == -Errno.EAGAIN
    assert w.mremap(pg(0), 12 * P, 20 * P, 0) == -Errno.EAGAIN
    assert w.mmap(pg(40), 4 * P, RW, ANON | MAP_LOCKED) == pg(40)
    assert w.mm.locked_vm == 16
    ok(w)


def test_r9_dontunmap_of_a_locked_vma_over_counts_locked_vm():
    w = world(cap_ipc_lock=True)
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0), 7)
    assert w.mlock(pg(0), 4 * P) == 0 and w.mm.locked_vm == 4
    assert w.mremap(pg(0), 4 * P, 4 * P, MF | MREMAP_DONTUNMAP, pg(20)) == pg(20)
    flags = dict(((s - A) // P, f) for s, _, f in w.smaps_flags(pg(0), pg(64)))
    assert "lo" not in flags[0] and "ac" in flags[0]
    assert "lo" in flags[20]
    assert w.load(pg(0)) == 0 and w.load(pg(20)) == 7
    assert w.mm.locked_vm == 8                      # 4 too many
    ok(w)
    assert w.munmap(pg(0), 4 * P) == 0 and w.munmap(pg(20), 4 * P) == 0
    assert w.mm.locked_vm == 4
    ok(w)


def test_dontunmap_of_part_of_a_vma_leaves_it_unsplit_and_an_unfaulted_whole_one_merges():
    w = world()
    w.mmap(pg(0), 8 * P, RW, ANON)
    w.touch(pg(2))
    assert w.mremap(pg(2), 2 * P, 2 * P, MF | MREMAP_DONTUNMAP, pg(20)) == pg(20)
    assert spans(w) == [(0, 8), (20, 22)]
    assert w.load(pg(2)) == 0 and w.load(pg(20)) == 0x78
    ok(w)


def test_fixed_move_replaces_what_is_at_the_destination():
    w = world()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.mmap(pg(20), 8 * P, PROT_READ, ANON)
    assert w.mremap(pg(0), 4 * P, 4 * P, MF, pg(22)) == pg(22)
    assert maps(w) == [(20, 22, "r--p"), (22, 26, "rw-p"), (26, 28, "r--p")]
    ok(w)


def test_fixed_resize_moves_only_the_vma_at_addr():
    w = world()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.mmap(pg(3), 2 * P, RW, ANON)
    assert w.mremap(pg(0), 5 * P, 2 * P, MF, pg(20)) == pg(20)
    assert spans(w) == [(20, 22)]
    w = world()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.mmap(pg(2), 2 * P, PROT_READ, ANON)
    assert w.mremap(pg(0), 4 * P, 3 * P, MF, pg(20)) == -Errno.EFAULT
    assert maps(w) == [(0, 2, "rw-p"), (2, 4, "r--p")]
    w = world()
    w.mmap(pg(0), 2 * P, RW, ANON)
    assert w.mremap(pg(0), 2 * P, 6 * P, MF, pg(20)) == pg(20)     # growth over a gap
    assert spans(w) == [(20, 26)]
    ok(w)


def test_file_offsets_move_with_the_vma():
    w = world()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 16 * P)
    w.mmap(pg(0), 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    w.mmap(pg(8), 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 4 * P)
    assert w.mremap(pg(8), 4 * P, 4 * P, MF, pg(4)) == pg(4)
    text = w.proc_maps(pg(0), pg(64))
    assert text.count("\n") == 1 and " 00000000 " in text
    w.touch(pg(5), 9)
    assert w.load(pg(5)) == 9
    ok(w)


def test_maymove_growth_without_room_moves_elsewhere():
    w = world()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.touch(pg(1), 3)
    w.mmap(pg(2), 2 * P, PROT_READ, ANON)
    new = w.mremap(pg(0), 2 * P, 4 * P, MREMAP_MAYMOVE)
    assert new > 0 and new != pg(0)
    assert w.load(new + P) == 3 and w.load(new + 3 * P) == 0
    assert spans(w, 0, 4) == [(2, 4)]
    ok(w)


def test_map_count_headroom_refuses_moves_but_not_shrinks():
    w = world(max_map_count=8)
    for i in range(6):
        w.mmap(pg(2 * i), P, RW if i % 2 else PROT_READ, ANON)
    w.mmap(pg(20), 4 * P, RW, ANON)
    assert w.mm.map_count == 7
    assert w.mremap(pg(20), 4 * P, 4 * P, MF, pg(40)) == -Errno.ENOMEM
    assert w.mremap(pg(20), 4 * P, 2 * P, 0) == pg(20)
    assert spans(w, 20, 64) == [(20, 22)]


def test_growth_is_charged_and_a_move_keeps_the_charge():
    w = world()
    w.mmap(pg(0), 4 * P, RW, ANON)
    before = w.vm_committed
    assert w.mremap(pg(0), 4 * P, 6 * P, MF, pg(20)) == pg(20)
    assert w.vm_committed == before + 2
    assert w.mremap(pg(21), 2 * P, 2 * P, MF, pg(40)) == pg(40)
    assert w.vm_committed == before + 2
    assert [bool(v.vm_flags & VmFlags.VM_ACCOUNT) for v in w.vmas(pg(0), pg(64))] == [True] * 3
    ok(w)


def test_a_copy_that_cannot_be_linked_is_closed_again():
    """copy_vma: when vma_link fails after vm_ops->open ran on the copy, out_vma_link calls
    vma_close (mm/vma.c), so a driver counting its mappings is left balanced."""
    from mmviz.model.drivers import DriverSpec, driver_state
    w = mmviz.World(kernel="mainline")
    fd = w.open_driver(DriverSpec("refcount", ref_in="mapped"))
    assert w.mmap(pg(0), 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == pg(0)
    state = driver_state(w, fd)
    assert (state.refs, state.close_calls) == (1, 0)
    w.faults.arm("prealloc")                  # the copy's vma_link fails
    assert w.mremap(pg(0), 4 * P, 4 * P, MF, pg(20)) == -Errno.ENOMEM
    assert (state.refs, state.close_calls) == (1, 1)
    assert spans(w) == [(0, 4)]
    ok(w)
