"""Self-test of the kernel oracle: the harness must reproduce well-known kernel facts."""

import errno
import sys

import pytest

if sys.platform != "linux":
    pytest.skip("the kernel oracle needs Linux", allow_module_level=True)

from mmviz.model.uapi import (MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE,  # noqa: E402
                              MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE)

from .kernel_window import KernelWindow  # noqa: E402

P = PAGE_SIZE
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED


@pytest.fixture(scope="module")
def window():
    with KernelWindow(pages=32) as win:
        yield win


@pytest.fixture
def win(window):
    window.reset()
    yield window
    # Every case must leave the guards exactly as installed.
    assert len(window.guard_lines()) == 2
    window.reset()


def spans(win):
    """[(first page, end page, perms)] relative to the window base."""
    return [((e["start"] - win.base) // P, (e["end"] - win.base) // P, e["perms"])
            for e in win.maps_entries()]


def test_window_starts_empty_with_guards(win):
    assert win.maps() == []
    lo, hi = win.guard_lines()
    assert lo.startswith(f"{win.lo_guard:x}-{win.base:x} ---s ")
    assert hi.startswith(f"{win.hi_guard:x}-{win.hi_guard + P:x} ---s ")


def test_adjacent_anon_same_prot_merge(win):
    assert win.mmap(win.base, 4 * P, RW, ANON) == win.base
    assert win.mmap(win.base + 4 * P, 4 * P, RW, ANON) == win.base + 4 * P
    assert spans(win) == [(0, 8, "rw-p")]


def test_adjacent_anon_different_prot_do_not_merge(win):
    assert win.mmap(win.base, 4 * P, RW, ANON) == win.base
    assert win.mmap(win.base + 4 * P, 4 * P, PROT_READ, ANON) == win.base + 4 * P
    assert spans(win) == [(0, 4, "rw-p"), (4, 8, "r--p")]


def test_munmap_middle_page_splits(win):
    assert win.mmap(win.base, 3 * P, RW, ANON) == win.base
    assert win.munmap(win.base + P, P) == 0
    assert spans(win) == [(0, 1, "rw-p"), (2, 3, "rw-p")]


def _map_file_pages(win, fd_a, fd_b, second_pgoff):
    flags = MAP_SHARED | MAP_FIXED
    assert win.mmap(win.base, P, RW, flags, fd_a, 0) == win.base
    assert win.mmap(win.base + P, P, RW, flags, fd_b, second_pgoff * P) == win.base + P


def test_memfd_shared_contiguous_offsets_merge(win):
    fd = win.memfd_create("merge")
    assert win.ftruncate(fd, 4 * P) == 0
    _map_file_pages(win, fd, fd, 1)
    assert [(e["offset"], e["end"] - e["start"]) for e in win.maps_entries()] == [(0, 2 * P)]


def test_memfd_shared_noncontiguous_offsets_do_not_merge(win):
    fd = win.memfd_create("gap")
    assert win.ftruncate(fd, 4 * P) == 0
    _map_file_pages(win, fd, fd, 2)
    assert [e["offset"] for e in win.maps_entries()] == [0, 2 * P]


def test_dup_merges_but_reopen_does_not(win):
    fd = win.memfd_create("files")
    assert win.ftruncate(fd, 4 * P) == 0
    _map_file_pages(win, fd, win.dup(fd), 1)
    assert len(win.maps()) == 1  # dup shares the struct file
    win.munmap(win.base, 2 * P)
    _map_file_pages(win, fd, win.reopen(fd), 1)
    assert len(win.maps()) == 2  # same inode, but a different struct file


def test_fixed_noreplace_over_mapping_is_eexist(win):
    assert win.mmap(win.base + P, P, RW, ANON) == win.base + P
    flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
    assert win.mmap(win.base, 2 * P, RW, flags) == -errno.EEXIST
    assert spans(win) == [(1, 2, "rw-p")]


def test_touch_and_read(win):
    assert win.mmap(win.base, P, RW, ANON) == win.base
    assert win.touch(win.base + 5, 0x42) == 0
    assert win.read(win.base + 5) == 0x42
    with pytest.raises(ValueError):
        win.touch(win.base + P)  # unmapped


def test_touch_refuses_fatal_accesses(win):
    assert win.mmap(win.base, P, PROT_READ, ANON) == win.base
    with pytest.raises(ValueError):
        win.touch(win.base)  # read-only
    fd = win.memfd_create("short")
    assert win.ftruncate(fd, P) == 0
    assert win.mmap(win.base + P, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == win.base + P
    assert win.touch(win.base + P) == 0
    with pytest.raises(ValueError):
        win.touch(win.base + 2 * P)  # past EOF: SIGBUS


def test_refuses_calls_that_leave_the_window(win):
    with pytest.raises(ValueError):
        win.mmap(win.base, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)  # not fixed
    with pytest.raises(ValueError):
        win.mmap(win.base - P, 2 * P, RW, ANON)  # over the low guard
    with pytest.raises(ValueError):
        win.munmap(win.base + win.size - P, 2 * P)  # over the high guard
    with pytest.raises(ValueError):
        win.mprotect(win.base, win.size + P, RW)


def test_kernel_rejected_bad_arguments_pass_through(win):
    assert win.mmap(win.base, 0, RW, ANON) == -errno.EINVAL
    assert win.mmap(win.base + 1, P, RW, ANON) == -errno.EINVAL
    assert win.munmap(win.base, -P) == -errno.EINVAL
    assert win.mprotect(win.base, -P, RW) == -errno.ENOMEM
    assert win.mmap(win.base, P, RW, MAP_SHARED | MAP_FIXED, 10_000, 0) == -errno.EBADF
    assert win.maps() == []
