"""Bad input: every malformed call gets the kernel's errno and leaves the world unchanged.

The expected errno of each case comes from tests/oracle/FINDINGS.md.  On Linux the same
call (after the same set-up) is also made on the running kernel in the scratch window,
and must give the same answer and leave the kernel's maps unchanged too; elsewhere the
model is checked against the recorded value alone.

Arguments that are not integers (or do not fit the C type) are a caller's mistake, not
something the kernel could receive: they raise mmviz.InputError with a one-line message.
So do the mmap flags the kernel knows but the model does not simulate (MAP_HUGETLB, ...).
"""

from __future__ import annotations

import errno as E
import os
import sys

import pytest

import mmviz
from mmviz import (MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED,
                   MAP_SHARED_VALIDATE, O_RDONLY, PROT_READ, PROT_WRITE, InputError)

P = mmviz.PAGE_SIZE
RW, R = PROT_READ | PROT_WRITE, PROT_READ
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
NOREPLACE = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
TOP = 0x7FFF_FFFF_F000          # TASK_SIZE with 4-level paging
BAD_FD = 10000
HUGE = 1 << 63
ON_LINUX = sys.platform == "linux"
DEFAULT_BASE = 0x1000_0000_0000


class Side:
    """One side of a case: the model World or the kernel window, with the same set-up."""

    def __init__(self, sys_, base, is_kernel):
        self.sys, self.B, self.is_kernel = sys_, base, is_kernel
        self.fd = self.ro = None

    def setup(self, steps):
        for step in steps:
            if step[0] == "anon":       # ("anon", first page, end page, prot)
                _, s, e, prot = step
                assert self.sys.mmap(self.B + s * P, (e - s) * P, prot, ANON) == self.B + s * P
            elif step[0] == "memfd":    # ("memfd", pages)
                self.fd = self.sys.memfd_create("a")
                assert self.sys.ftruncate(self.fd, step[1] * P) == 0
            elif step[0] == "ro":       # a read-only open of the memfd
                self.ro = (self.sys.reopen(self.fd, writable=False) if self.is_kernel
                           else self.sys.reopen(self.fd, O_RDONLY))
            elif step[0] == "ro_map":   # ("ro_map", page): MAP_SHARED PROT_READ of ro
                a = self.B + step[1] * P
                assert self.sys.mmap(a, P, R, MAP_SHARED | MAP_FIXED, self.ro, 0) == a
            else:
                raise AssertionError(step)

    def maps(self):
        if self.is_kernel:
            return self.sys.maps()
        return self.sys.proc_maps().splitlines()


# (id, set-up, call(side) -> result, expected result).  A call is written once for both sides.
MMAP_CASES = [
    ("len 0", [], lambda s: s.sys.mmap(s.B, 0, RW, ANON), -E.EINVAL),
    ("unaligned fixed addr", [], lambda s: s.sys.mmap(s.B + 1, P, RW, ANON), -E.EINVAL),
    ("negative len", [], lambda s: s.sys.mmap(s.B, -P, RW, ANON), -E.ENOMEM),
    ("len 2**63", [], lambda s: s.sys.mmap(s.B, HUGE, RW, ANON), -E.ENOMEM),
    ("len 2**63 over a mapping", [("anon", 0, 2, RW)],
     lambda s: s.sys.mmap(s.B, HUGE, RW, ANON), -E.ENOMEM),
    ("unaligned offset memfd", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, s.fd, 1), -E.EINVAL),
    ("unaligned offset anon", [], lambda s: s.sys.mmap(s.B, P, RW, ANON, -1, 1), -E.EINVAL),
    ("negative offset memfd shared", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, s.fd, -4096), -E.EOVERFLOW),
    ("negative offset memfd private", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_PRIVATE | MAP_FIXED, s.fd, -4096), -E.EOVERFLOW),
    ("offset+len = 2**63", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, s.fd, HUGE - P), -E.EOVERFLOW),
    ("offset+len = 2**63, 2 pages", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, 2 * P, RW, MAP_SHARED | MAP_FIXED, s.fd, HUGE - 2 * P),
     -E.EOVERFLOW),
    ("no MAP_ANONYMOUS, fd -1", [],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_PRIVATE | MAP_FIXED, -1), -E.EBADF),
    ("bad fd", [], lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, BAD_FD), -E.EBADF),
    ("no map type, anon", [], lambda s: s.sys.mmap(s.B, P, RW, MAP_FIXED | MAP_ANONYMOUS),
     -E.EINVAL),
    ("no map type, memfd", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_FIXED, s.fd), -E.EINVAL),
    ("SHARED_VALIDATE on anon", [],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED),
     -E.EINVAL),
    ("SHARED_VALIDATE unknown bit", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED | 0x200, s.fd),
     -E.EOPNOTSUPP),
    ("SHARED_VALIDATE unknown bit on anon", [],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED | 0x200),
     -E.EINVAL),
    ("end beyond TASK_SIZE", [], lambda s: s.sys.mmap(TOP, 2 * P, RW, ANON), -E.ENOMEM),
    ("end beyond TASK_SIZE, NOREPLACE", [],
     lambda s: s.sys.mmap(TOP, 2 * P, RW, NOREPLACE), -E.ENOMEM),
    ("negative address", [], lambda s: s.sys.mmap(-P if not s.is_kernel else (1 << 64) - P,
                                                  2 * P, RW, ANON), -E.ENOMEM),
    ("read-only open, shared write", [("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, s.ro), -E.EACCES),
    ("read-only open, SHARED_VALIDATE write", [("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED, s.ro), -E.EACCES),
    ("failed FIXED over a mapping keeps it", [("anon", 0, 2, RW), ("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, s.ro), -E.EACCES),
    ("NOREPLACE partial overlap", [("anon", 1, 2, RW)],
     lambda s: s.sys.mmap(s.B, 2 * P, RW, NOREPLACE), -E.EEXIST),
    # Which error wins (FINDINGS §5).
    ("len 0 + bad fd", [], lambda s: s.sys.mmap(s.B, 0, RW, MAP_SHARED | MAP_FIXED, BAD_FD),
     -E.EBADF),
    ("bad offset + bad fd", [],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, BAD_FD, 1), -E.EINVAL),
    ("unaligned addr + bad fd", [],
     lambda s: s.sys.mmap(s.B + 1, P, RW, MAP_SHARED | MAP_FIXED, BAD_FD), -E.EBADF),
    ("no type + bad fd", [], lambda s: s.sys.mmap(s.B, P, RW, MAP_FIXED, BAD_FD), -E.EBADF),
    ("len 0 + no type", [], lambda s: s.sys.mmap(s.B, 0, RW, MAP_FIXED | MAP_ANONYMOUS),
     -E.EINVAL),
    ("unaligned addr + no type", [],
     lambda s: s.sys.mmap(s.B + 1, P, RW, MAP_FIXED | MAP_ANONYMOUS), -E.EINVAL),
    ("unaligned addr + EACCES", [("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B + 1, P, RW, MAP_SHARED | MAP_FIXED, s.ro), -E.EINVAL),
    ("EEXIST + EACCES", [("anon", 0, 1, R), ("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, s.ro), -E.EEXIST),
    ("unknown bit + EACCES", [("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED | 0x200, s.ro),
     -E.EOPNOTSUPP),
    ("beyond TASK_SIZE + bad fd", [],
     lambda s: s.sys.mmap(TOP, 2 * P, RW, MAP_SHARED | MAP_FIXED, BAD_FD), -E.EBADF),
    ("len 0 + EOVERFLOW offset", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, 0, RW, MAP_SHARED | MAP_FIXED, s.fd, -4096), -E.EINVAL),
    ("unaligned addr + EOVERFLOW offset", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B + 1, P, RW, MAP_SHARED | MAP_FIXED, s.fd, -4096), -E.EINVAL),
    ("EOVERFLOW + EACCES", [("memfd", 4), ("ro",)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED | MAP_FIXED, s.ro, -4096), -E.EOVERFLOW),
    ("EOVERFLOW + unknown bit", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED | 0x200, s.fd, -4096),
     -E.EOVERFLOW),
    ("EOVERFLOW + no type", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_FIXED, s.fd, -4096), -E.EOVERFLOW),
    ("EEXIST + no type", [("anon", 0, 1, R)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_ANONYMOUS | MAP_FIXED_NOREPLACE), -E.EEXIST),
    ("EEXIST + VALIDATE on anon", [("anon", 0, 1, R)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE),
     -E.EEXIST),
    ("EEXIST + unknown bit", [("anon", 0, 1, R), ("memfd", 4)],
     lambda s: s.sys.mmap(s.B, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE | 0x200, s.fd),
     -E.EEXIST),
    ("unaligned addr + unknown bit", [("memfd", 4)],
     lambda s: s.sys.mmap(s.B + 1, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED | 0x200, s.fd),
     -E.EINVAL),
]

MUNMAP_CASES = [
    ("len 0", [("anon", 0, 4, RW)], lambda s: s.sys.munmap(s.B, 0), -E.EINVAL),
    ("unaligned addr", [("anon", 0, 4, RW)], lambda s: s.sys.munmap(s.B + 1, P), -E.EINVAL),
    ("negative len", [("anon", 0, 4, RW)], lambda s: s.sys.munmap(s.B + P, -P), -E.EINVAL),
    ("end beyond TASK_SIZE", [], lambda s: s.sys.munmap(TOP, 2 * P), -E.EINVAL),
    ("unaligned + len 0", [], lambda s: s.sys.munmap(s.B + 1, 0), -E.EINVAL),
    ("empty range", [("anon", 0, 4, RW)], lambda s: s.sys.munmap(s.B + 8 * P, 2 * P), 0),
]

MPROTECT_CASES = [
    ("len 0", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B, 0, RW), 0),
    ("unaligned, len 0", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B + 1, 0, RW),
     -E.EINVAL),
    ("unaligned addr", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B + 1, P, RW), -E.EINVAL),
    ("invalid prot bit", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B, P, 0x10), -E.EINVAL),
    ("RW + invalid prot bit", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B, P, RW | 0x10),
     -E.EINVAL),
    ("negative len", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B + P, -P, RW), -E.ENOMEM),
    ("len -1", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B + P, -1, RW), -E.ENOMEM),
    ("range starts in a hole", [("anon", 1, 3, R)], lambda s: s.sys.mprotect(s.B, 3 * P, RW),
     -E.ENOMEM),
    ("empty window", [], lambda s: s.sys.mprotect(s.B, 2 * P, RW), -E.ENOMEM),
    ("len 0 + bad prot", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B, 0, 0x10), 0),
    ("negative len + bad prot", [("anon", 0, 4, R)],
     lambda s: s.sys.mprotect(s.B + P, -P, 0x10), -E.ENOMEM),
    ("hole + bad prot", [], lambda s: s.sys.mprotect(s.B, P, 0x10), -E.EINVAL),
    ("shared read-only open to RW", [("memfd", 4), ("ro",), ("ro_map", 0)],
     lambda s: s.sys.mprotect(s.B, P, RW), -E.EACCES),
    ("no-op change", [("anon", 0, 4, R)], lambda s: s.sys.mprotect(s.B + P, P, R), 0),
]

ALL_CASES = ([("mmap: " + c[0],) + c[1:] for c in MMAP_CASES]
             + [("munmap: " + c[0],) + c[1:] for c in MUNMAP_CASES]
             + [("mprotect: " + c[0],) + c[1:] for c in MPROTECT_CASES])


@pytest.fixture(scope="module")
def window():
    if not ON_LINUX:
        yield None
        return
    from oracle.kernel_window import KernelWindow
    with KernelWindow(pages=16, base=0x3000_0000_0000) as win:
        yield win


def _model_state(w):
    return (w.proc_maps(), w.mm.map_count, w.vm_committed, w.mm.total_vm, sorted(w.fds),
            [(f.id, f.f_count, f.f_inode.i_size) for f in w.all_files()])


@pytest.mark.parametrize("name,setup,call,expected", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_bad_call_gets_the_kernels_errno_and_changes_nothing(window, name, setup, call, expected):
    base = window.base if window is not None else DEFAULT_BASE
    model = Side(mmviz.World(), base, is_kernel=False)
    model.setup(setup)
    before = _model_state(model.sys)
    got = call(model)
    assert got == expected, f"{name}: model returned {got}, the kernel returns {expected}"
    assert _model_state(model.sys) == before, f"{name}: the model's world changed"
    model.sys.validate()
    if window is None:
        return
    window.reset()
    kern = Side(window, base, is_kernel=True)
    kern.setup(setup)
    kbefore = kern.maps()
    assert call(kern) == expected, f"{name}: the kernel itself disagrees with FINDINGS.md"
    assert kern.maps() == kbefore
    assert len(window.guard_lines()) == 2


@pytest.mark.skipif(not ON_LINUX, reason="compares with the running Linux kernel")
def test_kernel_agrees_on_accepted_odd_arguments(window):
    """Odd but valid arguments the kernel accepts: both sides map the same thing."""
    cases = [
        lambda s: s.sys.mmap(s.B, P + 1, RW, ANON),                  # length rounds up
        lambda s: s.sys.mmap(s.B, P, RW, ANON | 0x200),               # unknown bit ignored
        lambda s: s.sys.mmap(s.B, P, 0x10, ANON),                     # mmap ignores bad prot
        lambda s: s.sys.mmap(s.B, P, RW, ANON, -1, -4096),            # anon ignores offset
        lambda s: s.sys.mmap(s.B, P, RW, ANON, -1, 5 * P),
        lambda s: s.sys.munmap(s.B + P, P + 1),                       # length rounds up
        lambda s: s.sys.mprotect(s.B, P + 1, R),
        lambda s: s.sys.mprotect(s.B, P, 0x8),                        # PROT_SEM is valid
    ]
    for i, call in enumerate(cases):
        window.reset()
        w = mmviz.World()
        kern, model = Side(window, window.base, True), Side(w, window.base, False)
        for side in (kern, model):
            side.setup([("anon", 0, 4, RW)] if i >= 5 else [])
        assert call(kern) == call(model), i
        norm = [line.split()[:3] for line in kern.maps()]
        assert norm == [line.split()[:3] for line in model.maps()], i
        w.validate()


# ------------------------------------------------------------------ files and fds


def test_file_calls_on_bad_fds_and_sizes():
    w = mmviz.World()
    fd = w.memfd_create("a")
    ro = w.reopen(fd, O_RDONLY)
    before = _model_state(w)
    assert w.ftruncate(BAD_FD, P) == -E.EBADF
    assert w.ftruncate(fd, -1) == -E.EINVAL
    assert w.ftruncate(ro, P) == -E.EINVAL          # not open for writing
    assert w.dup(BAD_FD) == -E.EBADF
    assert w.reopen(BAD_FD) == -E.EBADF
    assert w.close(BAD_FD) == -E.EBADF
    assert w.close(-1) == -E.EBADF
    assert _model_state(w) == before
    if ON_LINUX:    # the same answers from the real system calls
        for fn, args, err in [(os.ftruncate, (BAD_FD, P), E.EBADF),
                              (os.dup, (BAD_FD,), E.EBADF), (os.close, (BAD_FD,), E.EBADF)]:
            with pytest.raises(OSError) as exc:
                fn(*args)
            assert exc.value.errno == err
        real = os.memfd_create("mmviz-bad-input", os.MFD_CLOEXEC)
        try:
            with pytest.raises(OSError) as exc:
                os.ftruncate(real, -1)
            assert exc.value.errno == E.EINVAL
            real_ro = os.open(f"/proc/self/fd/{real}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                with pytest.raises(OSError) as exc:
                    os.ftruncate(real_ro, P)
                assert exc.value.errno == E.EINVAL
            finally:
                os.close(real_ro)
        finally:
            os.close(real)


def test_ftruncate_checks_the_length_first_and_takes_any_off_t():
    """do_sys_ftruncate() refuses a negative length before it looks up the fd; a device is
    not a regular file (-EINVAL); any length up to 2**63-1 fits shmem's s_maxbytes."""
    from mmviz.model.drivers import DriverSpec
    w = mmviz.World()
    fd = w.memfd_create("a")
    dev = w.open_driver(DriverSpec("pfn-remap"))
    before = _model_state(w)
    assert w.ftruncate(BAD_FD, -1) == -E.EINVAL
    assert w.ftruncate(dev, P) == -E.EINVAL
    assert _model_state(w) == before
    assert w.ftruncate(fd, (1 << 63) - 1) == 0
    assert w.fget(fd).f_inode.i_size == (1 << 63) - 1
    if ON_LINUX:
        with pytest.raises(OSError) as exc:
            os.ftruncate(BAD_FD, -1)
        assert exc.value.errno == E.EINVAL
        null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        real = os.memfd_create("mmviz-bad-input", os.MFD_CLOEXEC)
        try:
            with pytest.raises(OSError) as exc:
                os.ftruncate(null, P)
            assert exc.value.errno == E.EINVAL
            os.ftruncate(real, (1 << 63) - 1)
            assert os.fstat(real).st_size == (1 << 63) - 1
        finally:
            os.close(null)
            os.close(real)


# Bits MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK) among those the model simulates, and
# one it refuses: MAP_HUGE_16GB sets bit 31, outside MAP_HUGE_2MB | MAP_HUGE_1GB.
VALIDATE_BITS = [("MAP_STACK", 0x20000, None), ("MAP_HUGE_2MB", 21 << 26, None),
                 ("MAP_HUGE_1GB", 30 << 26, None), ("MAP_DENYWRITE|MAP_EXECUTABLE", 0x1800, None),
                 ("MAP_NORESERVE|MAP_POPULATE|MAP_NONBLOCK", 0x1C000, None),
                 ("MAP_HUGE_16GB", 34 << 26, -E.EOPNOTSUPP)]


@pytest.mark.parametrize("name,bits,expected", VALIDATE_BITS, ids=[b[0] for b in VALIDATE_BITS])
def test_shared_validate_takes_the_legacy_flags(window, name, bits, expected):
    base = window.base if window is not None else DEFAULT_BASE
    sides = [Side(mmviz.World(), base, is_kernel=False)]
    if window is not None:
        window.reset()
        sides.append(Side(window, base, is_kernel=True))
    for side in sides:
        side.setup([("memfd", 4)])
        got = side.sys.mmap(base, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED | bits, side.fd)
        assert got == (base if expected is None else expected), (side.is_kernel, got)
        assert len(side.maps()) == (1 if expected is None else 0)
    sides[0].sys.validate()


def test_closed_fd_is_ebadf_for_mmap():
    w = mmviz.World()
    fd = w.memfd_create("a")
    assert w.ftruncate(fd, P) == 0
    assert w.close(fd) == 0
    assert w.mmap(DEFAULT_BASE, P, RW, MAP_SHARED | MAP_FIXED, fd) == -E.EBADF
    assert w.proc_maps() == ""


# ------------------------------------------------------------------ caller mistakes


NON_INTEGER = [
    ("mmap addr str", lambda w: w.mmap("0x1000", P, RW, ANON)),
    ("mmap length float", lambda w: w.mmap(DEFAULT_BASE, 4096.0, RW, ANON)),
    ("mmap prot None", lambda w: w.mmap(DEFAULT_BASE, P, None, ANON)),
    ("mmap flags str", lambda w: w.mmap(DEFAULT_BASE, P, RW, str(ANON))),
    ("mmap fd str", lambda w: w.mmap(DEFAULT_BASE, P, RW, ANON, "3")),
    ("mmap offset float", lambda w: w.mmap(DEFAULT_BASE, P, RW, ANON, -1, 0.0)),
    ("mmap addr bool", lambda w: w.mmap(True, P, RW, ANON)),
    ("mmap addr 2**64", lambda w: w.mmap(1 << 64, P, RW, ANON)),
    ("mmap prot 2**32", lambda w: w.mmap(DEFAULT_BASE, P, 1 << 32, ANON)),
    ("munmap length str", lambda w: w.munmap(DEFAULT_BASE, "1")),
    ("munmap addr float", lambda w: w.munmap(float(DEFAULT_BASE), P)),
    ("mprotect prot str", lambda w: w.mprotect(DEFAULT_BASE, P, "RW")),
    ("mprotect length list", lambda w: w.mprotect(DEFAULT_BASE, [P], RW)),
    ("touch str", lambda w: w.touch("here")),
    ("read None", lambda w: w.read(None)),
    ("ftruncate size float", lambda w: w.ftruncate(3, 1.5)),
    ("ftruncate size float, bad fd", lambda w: w.ftruncate(BAD_FD, 1.5)),
    ("ftruncate fd str", lambda w: w.ftruncate("3", P)),
    ("ftruncate size 2**100", lambda w: w.ftruncate(3, 2 ** 100)),
    ("ftruncate size 2**63", lambda w: w.ftruncate(3, 1 << 63)),
    ("ftruncate size -2**63-1, bad fd", lambda w: w.ftruncate(BAD_FD, -(1 << 63) - 1)),
    ("dup fd str", lambda w: w.dup("3")),
    ("dup fd float", lambda w: w.dup(3.0)),
    ("reopen fd None", lambda w: w.reopen(None)),
    ("reopen flags", lambda w: w.reopen(3, 0o100)),
    ("close fd str", lambda w: w.close("3")),
    ("close fd bool", lambda w: w.close(True)),
    ("memfd name int", lambda w: w.memfd_create(7)),
    ("memfd name slash", lambda w: w.memfd_create("a/b")),
]


@pytest.mark.parametrize("call", [c for _, c in NON_INTEGER], ids=[n for n, _ in NON_INTEGER])
def test_non_integer_arguments_raise_input_error(call):
    w = mmviz.World()
    fd = w.memfd_create("x")
    assert fd == 3
    assert w.ftruncate(fd, P) == 0
    before = _model_state(w)
    with pytest.raises(InputError) as exc:
        call(w)
    msg = str(exc.value)
    assert msg and "\n" not in msg, msg
    assert _model_state(w) == before


UNMODELLED = [("MAP_32BIT", 0x40), ("MAP_ABOVE4G", 0x80), ("MAP_GROWSDOWN", 0x100),
              ("MAP_HUGETLB", 0x40000), ("MAP_SYNC", 0x80000),
              ("MAP_DROPPABLE", None)]


@pytest.mark.parametrize("name,bit", UNMODELLED, ids=[n for n, _ in UNMODELLED])
def test_known_but_unmodelled_flags_raise_input_error(name, bit):
    w = mmviz.World()
    flags = (ANON | bit) if bit is not None else (0x08 | MAP_ANONYMOUS | MAP_FIXED)
    with pytest.raises(InputError) as exc:
        w.mmap(DEFAULT_BASE, P, RW, flags)
    msg = str(exc.value)
    assert name in msg and "\n" not in msg, msg
    assert w.proc_maps() == "" and w.mm.map_count == 0


# ------------------------------------------------------------------ model settings and drivers


def _driver_spec(**kw):
    from mmviz.model.drivers import DriverSpec
    return DriverSpec("regular", **kw)


REFUSED = [
    ("DriverSpec fail None", lambda w: _driver_spec(fail=None)),
    ("DriverSpec fail list", lambda w: _driver_spec(fail=["mapped"])),
    ("DriverSpec fail errno 5", lambda w: _driver_spec(fail={"mapped": 5})),
    ("DriverSpec fail errno True", lambda w: _driver_spec(fail={"mapped": True})),
    ("DriverSpec error_hook str", lambda w: _driver_spec(error_hook="x")),
    ("DriverSpec error_hook 0", lambda w: _driver_spec(error_hook=0)),
    ("DriverSpec extra_flags str", lambda w: _driver_spec(extra_flags="x")),
    ("DriverSpec extra_flags negative", lambda w: _driver_spec(extra_flags=-1)),
    ("DriverSpec hide str", lambda w: _driver_spec(hide="no")),
    ("DriverSpec size_pages float", lambda w: _driver_spec(size_pages=1.5)),
    ("DriverSpec name int", lambda w: _driver_spec(name=7)),
    ("DriverSpec lower str", lambda w: _driver_spec(lower="regular")),
    ("DriverSpec changed after", lambda w: w.open_driver(_with(_driver_spec(), fail=None))),
    ("open_driver str", lambda w: w.open_driver("regular")),
    ("open_driver None", lambda w: w.open_driver(None)),
    ("proc_maps start str", lambda w: w.proc_maps("x")),
    ("proc_maps end float", lambda w: w.proc_maps(0, 1.5)),
    ("vmas start str", lambda w: w.vmas("x")),
    ("World mmu str", lambda w: mmviz.World(mmu="no")),
    ("World mmu int", lambda w: mmviz.World(mmu=0)),
    ("World mdwe str", lambda w: mmviz.World(mdwe="yes")),
    ("World overcommit 3", lambda w: mmviz.World(overcommit_memory=3)),
    ("World unknown setting", lambda w: mmviz.World(max_map_cont=5)),
    ("World config str", lambda w: mmviz.World(config="v4")),
    ("faults errno positive", lambda w: w.faults.arm("alloc", errno=5)),
    ("faults errno 0", lambda w: w.faults.arm("action_complete", errno=0)),
    ("faults errno -4096", lambda w: w.faults.arm("action_complete", errno=-4096)),
    ("faults errno str", lambda w: w.faults.arm("alloc", errno="ENOMEM")),
    ("faults times 0", lambda w: w.faults.arm("alloc", times=0)),
    ("faults times str", lambda w: w.faults.arm("alloc", times="always")),
    ("ftruncate 2**100", lambda w: w.ftruncate(3, 2 ** 100)),
]


def _with(spec, **changes):
    for k, v in changes.items():
        setattr(spec, k, v)
    return spec


def _full_state(w):
    return _model_state(w) + (w.faults.armed(), dict(w._ids), w.config)


@pytest.mark.parametrize("call", [c for _, c in REFUSED], ids=[n for n, _ in REFUSED])
def test_settings_and_drivers_that_cannot_be_are_refused(call):
    w = mmviz.World()
    fd = w.memfd_create("x")
    assert w.ftruncate(fd, P) == 0
    before = _full_state(w)
    with pytest.raises(InputError) as exc:
        call(w)
    msg = str(exc.value)
    assert msg and "\n" not in msg and len(msg) < 300, msg
    assert _full_state(w) == before


def test_an_armed_errno_is_what_mmap_returns():
    from mmviz.model.drivers import DriverSpec
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("pfn-remap"))
    w.faults.arm("action_complete", errno=-E.EAGAIN)
    assert w.mmap(DEFAULT_BASE, P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == -E.EAGAIN
    assert w.proc_maps() == ""
