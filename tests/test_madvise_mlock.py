"""madvise, mlock/mlock2/munlock and brk: spec §4 acceptance cases A1-A9 (verified on
Linux 6.18.44) and the rules behind them, on the model."""

import pytest

import mmviz
from mmviz import (MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED,
                   MADV_HUGEPAGE, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_RANDOM,
                   MADV_SEQUENTIAL, MADV_WIPEONFORK, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE,
                   MAP_SHARED, MLOCK_ONFAULT, PROT_NONE, PROT_READ)
from mmviz.model.errno import Errno

from spec_window import ANON, RW, P, ok, pg, spans


def flags(w, page):
    for s, e, f in w.smaps_flags(pg(page), pg(page) + 1):
        return f
    return None



def test_a1_invalid_advice_zero_length_unmapped():
    w = mmviz.World()
    w.mmap(pg(0), 8 * P, RW, ANON)
    assert w.madvise(pg(100), P, 12345) == -Errno.EINVAL
    assert w.madvise(pg(100), 0, MADV_DONTFORK) == 0
    assert w.madvise(pg(100), P, MADV_DONTFORK) == -Errno.ENOMEM
    assert w.madvise(pg(0) + 1, P, MADV_DONTFORK) == -Errno.EINVAL
    assert w.madvise(pg(0), -1, MADV_DONTFORK) == -Errno.EINVAL      # rounds up to 0
    assert w.madvise(pg(0), P, 100) == -Errno.EINVAL                 # HWPOISON: not built


def test_a2_dontfork_splits_and_dofork_merges_back():
    w = mmviz.World()
    w.mmap(pg(0), 8 * P, RW, ANON)
    assert w.madvise(pg(2), 2 * P, MADV_DONTFORK) == 0
    assert spans(w) == [(0, 2), (2, 4), (4, 8)] and "dc" in flags(w, 2)
    assert w.madvise(pg(2), 2 * P, MADV_DOFORK) == 0
    assert spans(w) == [(0, 8)]
    ok(w)


def test_a3_a_hole_is_reported_after_the_walk():
    w = mmviz.World()
    w.mmap(pg(2), 2 * P, RW, ANON)
    w.mmap(pg(4), 2 * P, PROT_READ, ANON)
    assert w.madvise(pg(0), 6 * P, MADV_DONTFORK) == -Errno.ENOMEM
    assert "dc" in flags(w, 2) and "dc" in flags(w, 4)


def test_a4_wipeonfork_stops_at_the_file_vma():
    w = mmviz.World()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 8 * P)
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.mmap(pg(2), 2 * P, RW, MAP_PRIVATE | MAP_FIXED, fd, 0)
    w.mmap(pg(4), 2 * P, RW, ANON)
    assert w.madvise(pg(0), 6 * P, MADV_WIPEONFORK) == -Errno.EINVAL
    assert "wf" in flags(w, 0) and "wf" not in flags(w, 4)
    ok(w)


def test_a5_dontneed_zaps_until_the_locked_vma():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.touch(pg(0), 9)
    assert w.mlock(pg(2), 2 * P) == 0
    assert w.madvise(pg(0), 4 * P, MADV_DONTNEED) == -Errno.EINVAL
    assert w.load(pg(0)) == 0
    w.touch(pg(2), 4)
    assert w.madvise(pg(2), 2 * P, MADV_DONTNEED_LOCKED) == 0
    assert w.load(pg(2)) == 0
    ok(w)


def test_a6_at_the_map_count_limit():
    w = mmviz.World(max_map_count=6)
    for i in range(5):
        w.mmap(pg(10 + 2 * i), P, RW if i % 2 else PROT_READ, ANON)
    w.mmap(pg(0), 3 * P, RW, ANON)
    assert w.mm.map_count == 6
    assert w.madvise(pg(1), P, MADV_DONTFORK) == -Errno.EAGAIN
    assert w.mprotect(pg(1), P, PROT_READ) == -Errno.ENOMEM
    assert w.mlock(pg(1), P) == -Errno.ENOMEM
    assert w.madvise(pg(0), 3 * P, MADV_DONTFORK) == 0
    ok(w)


def test_a7_mlock_and_munlock_over_a_hole():
    w = mmviz.World()
    w.mmap(pg(0), 2 * P, RW, ANON)
    w.mmap(pg(4), 2 * P, RW, ANON)
    assert w.mlock(pg(0), 6 * P) == -Errno.ENOMEM
    assert "lo" in flags(w, 0) and "lo" not in flags(w, 4)
    assert w.munlock(pg(0), 8 * P) == -Errno.ENOMEM
    assert "lo" not in flags(w, 0)
    assert w.mm.locked_vm == 0
    ok(w)


def test_a8_mlock_of_prot_none_fails_but_stays_locked():
    w = mmviz.World()
    w.mmap(pg(0), 2 * P, PROT_NONE, ANON)
    assert w.mlock(pg(0), 2 * P) == -Errno.ENOMEM
    assert "lo" in flags(w, 0) and w.mm.locked_vm == 2
    assert w.mlock2(pg(0), 2 * P, MLOCK_ONFAULT) == 0        # onfault populates nothing
    assert "lf" in flags(w, 0)
    ok(w)


def test_a9_permission_and_limit():
    w = mmviz.World(rlimit_memlock_pages=0)
    w.mmap(pg(0), 32 * P, RW, ANON)
    assert w.mlock(pg(0), P) == -Errno.EPERM
    assert w.munlock(pg(0), P) == 0
    w = mmviz.World(rlimit_memlock_pages=16)
    w.mmap(pg(0), 32 * P, RW, ANON)
    assert w.mlock(pg(0), 8 * P) == 0
    assert w.mlock(pg(8), 16 * P) == -Errno.ENOMEM
    assert w.mlock(pg(0), 8 * P) == 0                       # re-locking is free
    assert w.mlock(pg(4), 12 * P) == 0                      # exactly at the limit
    assert w.mlock2(pg(0), P, 2) == -Errno.EINVAL            # unknown flag, before all else
    assert w.mlock(pg(0) + 10, 10) == 0                     # one page, rounded
    ok(w)


def test_read_advice_merges_and_hugepage_pieces_stay_split():
    w = mmviz.World()
    w.mmap(pg(0), 6 * P, RW, ANON)
    for advice, flag in ((MADV_RANDOM, "rr"), (MADV_SEQUENTIAL, "sr")):
        assert w.madvise(pg(2), 2 * P, advice) == 0
        assert flag in flags(w, 2) and len(spans(w)) == 3
    assert w.madvise(pg(2), 2 * P, MADV_NORMAL) == 0
    assert spans(w) == [(0, 6)]
    assert w.madvise(pg(2), 2 * P, MADV_HUGEPAGE) == 0
    assert w.madvise(pg(2), 2 * P, MADV_NOHUGEPAGE) == 0
    assert spans(w) == [(0, 2), (2, 4), (4, 6)] and "nh" in flags(w, 2)
    ok(w)


def test_mergeable_is_ignored_on_shared_memory():
    w = mmviz.World()
    w.mmap(pg(0), 4 * P, RW, ANON)
    w.mmap(pg(4), 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    assert w.madvise(pg(0), 8 * P, MADV_MERGEABLE) == 0
    assert "mg" in flags(w, 0) and "mg" not in flags(w, 4)


def test_dontneed_on_a_private_file_mapping_refaults_the_file_page():
    w = mmviz.World()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 4 * P)
    w.mmap(pg(10), P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    w.touch(pg(10), 1)
    w.mmap(pg(0), P, RW, MAP_PRIVATE | MAP_FIXED, fd, 0)
    w.touch(pg(0), 2)
    assert w.load(pg(0)) == 2 and w.load(pg(10)) == 1
    assert w.madvise(pg(0), P, MADV_DONTNEED) == 0
    assert w.load(pg(0)) == 1
    ok(w)


def test_truncation_discards_private_copies_too():
    w = mmviz.World()
    fd = w.memfd_create("m")
    w.ftruncate(fd, 4 * P)
    w.mmap(pg(0), 4 * P, RW, MAP_PRIVATE | MAP_FIXED, fd, 0)
    w.touch(pg(3), 5)
    assert w.ftruncate(fd, 2 * P) == 0
    assert w.touch(pg(3)) == -Errno.EFAULT          # SIGBUS now
    assert w.ftruncate(fd, 4 * P) == 0
    assert w.load(pg(3)) == 0
    ok(w)


def test_brk_grows_merges_and_shrinks():
    w = mmviz.World()
    base = w.brk(0)
    assert base == w.config.start_brk
    assert w.brk(base + 2 * P) == base + 2 * P
    assert w.brk(base + 5 * P + 10) == base + 5 * P + 10       # extends the same VMA
    (heap,) = w.vmas(base, base + 8 * P)
    assert (heap.vm_start, heap.vm_end) == (base, base + 6 * P)
    assert w.brk(base - P) == base + 5 * P + 10                # below start: refused
    assert w.brk(base + P) == base + P
    (heap,) = w.vmas(base, base + 8 * P)
    assert heap.vm_end == base + P
    w.mmap(base + 3 * P, P, RW, ANON)
    assert w.brk(base + 10 * P) == base + P                    # would run into a mapping
    ok(w)


@pytest.mark.parametrize("brk", [-1, 2 ** 64 - 1, 2 ** 64 - P, 2 ** 63, 1 << 47])
def test_a_break_past_the_address_space_is_refused(brk):
    """PAGE_ALIGN of a break near 2^64 wraps to 0 and the length to more than TASK_SIZE:
    get_unmapped_area refuses it and brk returns the old break. Checked on Linux 6.18
    (syscall(SYS_brk, v) for each v returned the unchanged break); the model once stored an
    inverted VMA here."""
    w = mmviz.World()
    base = w.brk(0)
    assert w.brk(brk) == base
    assert w.vmas(base, 1 << 47) == [] or all(v.vm_start < v.vm_end for v in w.vmas(0, 1 << 47))
    ok(w)


@pytest.mark.parametrize("advice", [8, 9, 22, 23, 25, 102, 103])
def test_unmodelled_advice_is_refused_with_one_line(advice):
    w = mmviz.World()
    with pytest.raises(mmviz.InputError) as exc:
        w.madvise(pg(0), P, advice)
    assert "\n" not in str(exc.value)
