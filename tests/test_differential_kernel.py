"""Differential test: the model against the REAL kernel of the machine running the tests.

The same seeded random sequences of mmap / munmap / mprotect / touch / read / memfd /
dup / reopen / close / ftruncate calls go to a `World` and, through
`tests/oracle/kernel_window.py`, to the running Linux kernel inside a private scratch
window of this process.  After every call the return values and the window's
/proc/maps lines must agree and `validate_mm` must pass.

Both sides have the same two guard pages (a PROT_NONE MAP_SHARED page of its own memfd
just below and just above the window), so the VMAs at the window's edges have the same
non-mergeable neighbours.

Device and inode numbers differ between the two sides: each distinct kernel
(dev, inode) is bound to the model's (dev, inode) the first time it appears, and every
later line must respect that binding in both directions.

On a mismatch the sequence is shrunk (delta debugging: drop operations while *some*
mismatch persists, replaying both sides from a fresh reset each time) and the test fails
with the shortest failing sequence, printed as Python calls on a World.
"""

from __future__ import annotations

import random
import sys
import time

import pytest

if sys.platform != "linux":
    pytest.skip("the differential test drives the running Linux kernel", allow_module_level=True)

import mmviz  # noqa: E402
from mmviz.model.errors import ModelBug  # noqa: E402
from oracle import shrink  # noqa: E402
from oracle.kernel_window import KernelWindow, parse_maps_line  # noqa: E402

pytestmark = pytest.mark.kernel

P = mmviz.PAGE_SIZE
R, W, X = mmviz.PROT_READ, mmviz.PROT_WRITE, mmviz.PROT_EXEC
NONE = mmviz.PROT_NONE
RW = R | W
SHARED, PRIVATE, VALIDATE = mmviz.MAP_SHARED, mmviz.MAP_PRIVATE, mmviz.MAP_SHARED_VALIDATE
ANON, FIXED, NOREPLACE = mmviz.MAP_ANONYMOUS, mmviz.MAP_FIXED, mmviz.MAP_FIXED_NOREPLACE
NORESERVE, POPULATE = mmviz.MAP_NORESERVE, mmviz.MAP_POPULATE

WINDOW_PAGES = 24
N_SEQUENCES = 800
MIN_OPS, MAX_OPS = 14, 26
MAX_SHRINK_REPLAYS = 1500

# ------------------------------------------------------------------ operations
#
# An operation is a tuple; file handles are symbolic names ("f0", "f1", ...) bound by
# the operation that creates them, so a sequence replays identically on both sides.
#   ("memfd", new, size)            new = memfd_create(new); ftruncate(new, size)
#   ("dup", new, h) / ("reopen", new, h, writable) / ("close", h) / ("ftruncate", h, size)
#   ("mmap", page, length, prot, flags, h_or_None, offset)
#   ("munmap", page, length) / ("mprotect", page, length, prot)
#   ("touch", page) / ("read", page)
# Pages are counted from the window's base.


def _defines(op):
    return op[1] if op[0] in ("memfd", "dup", "reopen") else None


def _uses(op):
    kind = op[0]
    if kind in ("dup", "reopen"):
        return [op[2]]
    if kind in ("close", "ftruncate"):
        return [op[1]]
    if kind == "mmap" and op[5] is not None:
        return [op[5]]
    return []


def normalise(ops):
    """Drop operations whose file handle is never created (or used after its close)."""
    live, out = set(), []
    for op in ops:
        if any(h not in live for h in _uses(op)):
            continue
        if op[0] == "close":
            live.discard(op[1])
        d = _defines(op)
        if d is not None:
            live.add(d)
        out.append(op)
    return out


_PROT_NAMES = {NONE: "PROT_NONE", R: "R", RW: "RW", W: "PROT_WRITE", R | X: "R|PROT_EXEC",
               RW | X: "RW|PROT_EXEC"}


def _flags_src(flags):
    names = []
    for bit, name in ((VALIDATE, "MAP_SHARED_VALIDATE"), (SHARED, "MAP_SHARED"),
                      (PRIVATE, "MAP_PRIVATE")):
        if flags & 0xF == bit:
            names.append(name)
            break
    for bit, name in ((ANON, "MAP_ANONYMOUS"), (FIXED, "MAP_FIXED"), (0x200, "0x200"),
                      (NOREPLACE, "MAP_FIXED_NOREPLACE"), (NORESERVE, "MAP_NORESERVE"),
                      (POPULATE, "MAP_POPULATE")):
        if flags & bit:
            names.append(name)
    return "|".join(names)


def _len_src(n):
    if n % P == 0:
        return f"{n // P}*P"
    return f"{n // P}*P+{n % P}"


def op_source(op) -> str:
    """One operation as a Python call on the World `w` (B = window base, P = page size)."""
    kind = op[0]
    if kind == "memfd":
        return f"{op[1]} = w.memfd_create({op[1]!r}); w.ftruncate({op[1]}, {_len_src(op[2])})"
    if kind == "dup":
        return f"{op[1]} = w.dup({op[2]})"
    if kind == "reopen":
        return f"{op[1]} = w.reopen({op[2]}, {'O_RDWR' if op[3] else 'O_RDONLY'})"
    if kind == "close":
        return f"w.close({op[1]})"
    if kind == "ftruncate":
        return f"w.ftruncate({op[1]}, {_len_src(op[2])})"
    if kind == "mmap":
        _, page, length, prot, flags, h, offset = op
        fd = "-1" if h is None else h
        return (f"w.mmap(B+{page}*P, {_len_src(length)}, {_PROT_NAMES.get(prot, hex(prot))}, "
                f"{_flags_src(flags)}, {fd}, {_len_src(offset)})")
    if kind == "munmap":
        return f"w.munmap(B+{op[1]}*P, {_len_src(op[2])})"
    if kind == "mprotect":
        return f"w.mprotect(B+{op[1]}*P, {_len_src(op[2])}, {_PROT_NAMES.get(op[3], hex(op[3]))})"
    if kind in ("touch", "read"):
        return f"w.{kind}(B+{op[1]}*P)"
    raise AssertionError(op)


def program_source(ops, base) -> str:
    lines = ["from mmviz import *",
             "from mmviz import PROT_READ as R",
             "P = PAGE_SIZE; RW = PROT_READ | PROT_WRITE",
             f"B = {base:#x}",
             "w = World()",
             "for _a in (B - P, B + {}*P):  # the two guard pages".format(WINDOW_PAGES),
             "    _g = w.memfd_create('guard'); w.ftruncate(_g, P)",
             "    w.mmap(_a, P, PROT_NONE, MAP_SHARED|MAP_FIXED, _g, 0); w.close(_g)"]
    lines += [op_source(op) for op in ops]
    return "\n".join(lines)


# ------------------------------------------------------------------ the two sides


class Mismatch(Exception):
    pass


def model_world(base, size) -> mmviz.World:
    """A World with the same guard pages as the KernelWindow."""
    w = mmviz.World()
    for name, addr in (("mmviz-guard-lo", base - P), ("mmviz-guard-hi", base + size)):
        fd = w.memfd_create(name)
        assert w.ftruncate(fd, P) == 0
        assert w.mmap(addr, P, NONE, SHARED | FIXED, fd, 0) == addr
        assert w.close(fd) == 0
    w.validate()
    return w


class Pair:
    """One World and the kernel window, driven in lock step."""

    def __init__(self, win: KernelWindow):
        self.win = win
        win.reset()
        self.base, self.size = win.base, win.size
        self.w = model_world(self.base, self.size)
        self.kfd: dict[str, int] = {}
        self.mfd: dict[str, int] = {}
        self.ident_k2m: dict = {}
        self.ident_m2k: dict = {}

    def _lines(self):
        kern = [parse_maps_line(line) for line in self.win.maps()]
        model = [parse_maps_line(line)
                 for line in self.w.proc_maps(self.base, self.base + self.size).splitlines()]
        return kern, model

    def compare_maps(self):
        kern, model = self._lines()

        def shape(e):
            return (e["start"], e["end"], e["perms"], e["offset"], e["name"])
        if [shape(e) for e in kern] != [shape(e) for e in model]:
            raise Mismatch("maps differ")
        for k, m in zip(kern, model):
            kid, mid = (k["dev"], k["inode"]), (m["dev"], m["inode"])
            if k["inode"] == 0 or m["inode"] == 0:
                if k["inode"] != m["inode"]:
                    raise Mismatch(f"one side is anonymous at {k['start']:#x}, the other not")
                continue
            bound_m = self.ident_k2m.setdefault(kid, mid)
            bound_k = self.ident_m2k.setdefault(mid, kid)
            if bound_m != mid or bound_k != kid:
                raise Mismatch(f"file identity differs at {k['start']:#x}: kernel {kid} is "
                               f"bound to model {self.ident_k2m[kid]}, model {mid} to "
                               f"kernel {self.ident_m2k[mid]}")

    def maps_text(self):
        def rel(lines):
            out = []
            for line in lines:
                e = parse_maps_line(line)
                out.append(f"  [{(e['start'] - self.base) // P},{(e['end'] - self.base) // P}) "
                           f"{e['perms']} {e['offset']:08x} {e['name']}".rstrip())
            return "\n".join(out) or "  (empty)"
        model = self.w.proc_maps(self.base, self.base + self.size).splitlines()
        return (f"kernel maps (pages from B):\n{rel(self.win.maps())}\n"
                f"model maps (pages from B):\n{rel(model)}")

    def apply(self, op):
        """Apply op to both sides; return (kernel result, model result)."""
        kind = op[0]
        win, w, B = self.win, self.w, self.base
        if kind == "memfd":
            kf, mf = win.memfd_create(op[1]), w.memfd_create(op[1])
            self.kfd[op[1]], self.mfd[op[1]] = kf, mf
            return (win.ftruncate(kf, op[2]), w.ftruncate(mf, op[2]))
        if kind == "dup":
            kf, mf = win.dup(self.kfd[op[2]]), w.dup(self.mfd[op[2]])
            self.kfd[op[1]], self.mfd[op[1]] = kf, mf
            return (kf >= 0, mf >= 0)
        if kind == "reopen":
            kf = win.reopen(self.kfd[op[2]], writable=op[3])
            mf = w.reopen(self.mfd[op[2]], mmviz.O_RDWR if op[3] else mmviz.O_RDONLY)
            self.kfd[op[1]], self.mfd[op[1]] = kf, mf
            return (kf >= 0, mf >= 0)
        if kind == "close":
            return (win.close_fd(self.kfd.pop(op[1])), w.close(self.mfd.pop(op[1])))
        if kind == "ftruncate":
            return (win.ftruncate(self.kfd[op[1]], op[2]), w.ftruncate(self.mfd[op[1]], op[2]))
        if kind == "mmap":
            _, page, length, prot, flags, h, offset = op
            kf = -1 if h is None else self.kfd[h]
            mf = -1 if h is None else self.mfd[h]
            return (win.mmap(B + page * P, length, prot, flags, kf, offset),
                    w.mmap(B + page * P, length, prot, flags, mf, offset))
        if kind == "munmap":
            return (win.munmap(B + op[1] * P, op[2]), w.munmap(B + op[1] * P, op[2]))
        if kind == "mprotect":
            return (win.mprotect(B + op[1] * P, op[2], op[3]),
                    w.mprotect(B + op[1] * P, op[2], op[3]))
        if kind in ("touch", "read"):
            addr = B + op[1] * P + 0x123
            m = getattr(w, kind)(addr)
            perm = "w" if kind == "touch" else "r"
            if m == 0 and kind == "read":
                entry = next((e for e in win.maps_entries() if e["start"] <= addr < e["end"]),
                             None)
                if entry is not None and "r" not in entry["perms"] and entry["perms"][1:3] != "--":
                    # x86 page tables cannot express write- or exec-only: the kernel lets a
                    # read fault in a VM_WRITE or VM_EXEC VMA succeed, as the model does, but
                    # the harness only reads 'r' pages.  Nothing to ask the kernel.
                    return (0, 0)
            if m == 0:
                try:
                    getattr(win, kind)(addr)
                except ValueError as e:
                    raise Mismatch(f"the model allowed the {kind} but the harness refused "
                                   f"it: {e}") from None
                return (0, 0)
            try:
                # The harness's own safety check (it reads maps, touches nothing): it must
                # also consider the access fatal, or the model is wrong to refuse it.
                win._vet_access(addr, perm)
            except ValueError:
                return (m, m)     # both sides agree that the access would be fatal
            raise Mismatch(f"the model says the {kind} faults ({m}) but the kernel would "
                           "allow it")
        raise AssertionError(op)


def step(pair, op):
    """Apply one op to both sides and compare; return None or a description of the mismatch."""
    try:
        k, m = pair.apply(op)
        if k != m:
            raise Mismatch(f"return values differ: kernel {k!r}, model {m!r}")
        pair.w.validate()
        pair.compare_maps()
    except (Mismatch, ModelBug) as e:
        return f"{type(e).__name__}: {e}\n{pair.maps_text()}"
    return None


def replay(win, ops):
    """Run ops on both sides from a fresh reset; return None or (index, message)."""
    pair = Pair(win)
    for i, op in enumerate(ops):
        msg = step(pair, op)
        if msg is not None:
            return i, msg
    if len(win.guard_lines()) != 2:
        return len(ops) - 1, "the kernel's guard pages were disturbed"
    return None


# ------------------------------------------------------------------ shrinking


def ddmin(win, ops):
    """Delta debugging: the smallest op list (by removal) for which a mismatch persists."""
    return shrink.ddmin(lambda c: replay(win, c), normalise, ops, MAX_SHRINK_REPLAYS)


# ------------------------------------------------------------------ generation


class Generator:
    """Random operations, steered by the model's view so that most calls do something."""

    def __init__(self, rng: random.Random, base: int, model_fds: dict, focus: str = "mixed"):
        self.rng = rng
        self.focus = focus
        self.base = base
        self._mfd = model_fds           # handle -> the model's fd number
        self.pending: list[tuple] = []  # follow-up operations queued by the previous one
        self.handles: list[str] = []
        self.next_handle = 0

    def _vmas(self, w):
        return [v for v in w.vmas(self.base, self.base + WINDOW_PAGES * P)]

    def _page(self, addr):
        return (addr - self.base) // P

    def _range(self, w):
        """A start page and page count inside the window, often touching existing VMAs."""
        rng = self.rng
        vmas = self._vmas(w)
        npages = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
        holes = self._holes(w)
        if holes and rng.random() < 0.25:
            return rng.choice(holes)     # exactly a hole between two VMAs: 3-way merges
        if vmas and rng.random() < 0.6:
            v = rng.choice(vmas)
            s, e = self._page(v.vm_start), self._page(v.vm_end)
            start = rng.choice((e, s - npages, s, s + 1, e - 1, rng.randrange(s, e)))
        else:
            start = rng.randrange(0, WINDOW_PAGES)
        start = max(0, min(start, WINDOW_PAGES - 1))
        npages = max(1, min(npages, WINDOW_PAGES - start))
        return start, npages

    def _holes(self, w):
        """(start page, pages) of every gap with a VMA on both sides, inside the window."""
        vmas = self._vmas(w)
        return [(self._page(a.vm_end), (b.vm_start - a.vm_end) // P)
                for a, b in zip(vmas, vmas[1:]) if a.vm_end < b.vm_start]

    def _neighbour_prot(self, w, start, npages, prot):
        """Often the protection of a neighbouring VMA, so that the new range can merge."""
        if self.rng.random() < 0.5:
            tree = w.mm.mm_mt
            a, b = self.base + start * P, self.base + (start + npages) * P
            near = [v for v in (tree.prev_before(a), tree.next_from(b))
                    if v is not None and v.vm_end >= a - P and v.vm_start <= b + P]
            if near:
                return self.rng.choice(near).vm_flags & (R | W | X)
        return prot

    def _length(self, npages):
        if self.rng.random() < 0.08:
            return npages * P - self.rng.choice((1, P - 1, P // 2))   # rounds up to npages
        return npages * P

    def _prot(self):
        if self.rng.random() < 0.03:
            # PROT_SEM (valid, grants nothing) and an invalid bit: mmap ignores both,
            # mprotect accepts the first and rejects the second (FINDINGS 1).
            return self.rng.choice((0x8, R | 0x8, R | 0x10, 0x10))
        return self.rng.choice((RW, RW, RW, R, R, NONE, W, RW | X, R | X))

    def _new_handle(self):
        h = f"f{self.next_handle}"
        self.next_handle += 1
        self.handles.append(h)
        return h

    def next(self, pair) -> tuple:
        if self.pending:
            return self.pending.pop(0)
        op = self._next(pair)
        if op[0] == "mmap" and op[3] & W and op[4] & 0xF == PRIVATE and self.rng.random() < 0.5:
            # Write to the new private mapping soon, so that it gets its own anon_vma: the
            # rules about distinct anon_vmas (FINDINGS 10) need such neighbours.
            self.pending.append(("touch", op[1] + self.rng.randrange(max(1, op[2] // P))))
        return op

    # Relative weights of each kind of call, per focus.  Every sequence mixes all kinds of
    # call, but a third of them lean on anonymous memory (writes, mprotect, filling
    # holes: the anon_vma rules) and a third on files (dup vs reopen, offsets, sizes).
    WEIGHTS = {
        "mixed": dict(mmap_anon=27, mmap_file=20, munmap=11, mprotect=17, touch=13, read=2,
                      memfd=3, dup_reopen=3, ftruncate=2.5, close=1.5),
        "anon": dict(mmap_anon=34, mmap_file=3, munmap=9, mprotect=24, touch=26, read=3,
                     memfd=0.5, dup_reopen=0.5, ftruncate=0, close=0),
        "file": dict(mmap_anon=6, mmap_file=34, munmap=10, mprotect=15, touch=14, read=2,
                     memfd=6, dup_reopen=8, ftruncate=3, close=2),
    }

    def _next(self, pair) -> tuple:
        rng, w = self.rng, pair.w
        weights = self.WEIGHTS[self.focus]
        kind = rng.choices(list(weights), list(weights.values()))[0]
        if not self.handles and (kind in ("mmap_file", "dup_reopen", "ftruncate", "close")
                                 or (self.focus != "anon" and rng.random() < 0.3)):
            return ("memfd", self._new_handle(), rng.choice((4, 8, 12)) * P)
        if kind == "mmap_anon":
            return self._mmap_anon(w)
        if kind == "mmap_file":
            return self._mmap_file(w)
        if kind == "munmap":
            start, npages = self._range(w)
            return ("munmap", start, self._length(npages))
        if kind == "mprotect":
            start, npages = self._range(w)
            vmas = self._vmas(w)
            if vmas and rng.random() < 0.6:      # a piece of one VMA, or a run of VMAs
                v = rng.choice(vmas)
                s, e = self._page(v.vm_start), self._page(v.vm_end)
                start = rng.randrange(s, e)
                npages = rng.randrange(1, e - start + 1)
                if rng.random() < 0.3:
                    start, npages = s, e - s
            elif rng.random() < 0.3:     # ranges running over holes
                npages = min(WINDOW_PAGES - start, npages + rng.randrange(1, 6))
            prot = self._neighbour_prot(w, start, npages, self._prot())
            return ("mprotect", start, self._length(npages), prot)
        if kind == "touch":
            return ("touch", self._touch_page(w))
        if kind == "read":
            return ("read", rng.randrange(WINDOW_PAGES))
        if kind == "memfd":
            return ("memfd", self._new_handle(), rng.choice((1, 3, 6, 10, 16)) * P)
        if kind == "dup_reopen":
            src = rng.choice(self.handles)
            if rng.random() < 0.4:
                return ("dup", self._new_handle(), src)
            return ("reopen", self._new_handle(), src, rng.random() < 0.6)
        if kind == "ftruncate":
            size = rng.choice((0, 1, 2, 5, 9, 16)) * P + rng.choice((0, 0, 0, 100))
            return ("ftruncate", rng.choice(self.handles), size)
        if len(self.handles) > 1:
            h = rng.choice(self.handles)
            self.handles.remove(h)
            return ("close", h)
        return ("read", rng.randrange(WINDOW_PAGES))

    def _place_flags(self):
        # In the anonymous focus NOREPLACE keeps written VMAs (and their anon_vmas) alive.
        return NOREPLACE if self.rng.random() < (0.4 if self.focus == "anon" else 0.12) else FIXED

    def _mmap_anon(self, w):
        rng = self.rng
        start, npages = self._range(w)
        mtype = SHARED if rng.random() < (0.03 if self.focus == "anon" else 0.15) else PRIVATE
        flags = mtype | ANON | self._place_flags()
        if rng.random() < 0.06:
            flags |= NORESERVE
        if rng.random() < 0.04:
            flags |= POPULATE     # write-faults a private writable mapping: an anon_vma
        prot = self._prot()
        if mtype == PRIVATE:
            prot = self._neighbour_prot(w, start, npages, prot)
        return ("mmap", start, self._length(npages), prot, flags, None, 0)

    def _mmap_file(self, w):
        rng = self.rng
        start, npages = self._range(w)
        h = rng.choice(self.handles)
        addr = self.base + start * P
        # Prefer the offset that continues a file neighbour (so the merge rules are hit).
        offset = rng.randrange(0, 10) * P
        prev = w.mm.mm_mt.prev_before(addr)
        nxt = w.mm.mm_mt.next_from(addr + npages * P)
        if prev is not None and prev.vm_end == addr and prev.vm_file is not None \
                and rng.random() < 0.7:
            offset = (prev.vm_pgoff + prev.pages()) * P
            h = self._handle_for(w, prev.vm_file) or h
        elif nxt is not None and nxt.vm_start == addr + npages * P and nxt.vm_file is not None \
                and nxt.vm_pgoff >= npages and rng.random() < 0.7:
            offset = (nxt.vm_pgoff - npages) * P
            h = self._handle_for(w, nxt.vm_file) or h
        mtype = rng.choice((SHARED, SHARED, PRIVATE, PRIVATE, VALIDATE))
        if rng.random() < 0.04:
            mtype |= 0x200     # unknown bit: ignored by SHARED/PRIVATE, EOPNOTSUPP by VALIDATE
        prot = self._neighbour_prot(w, start, npages, self._prot())
        if rng.random() < 0.5 and prot & W and mtype != PRIVATE:
            prot = R  # keep some shared mappings of read-only opens valid
        if rng.random() < 0.04:
            mtype |= POPULATE
        return ("mmap", start, self._length(npages), prot, mtype | self._place_flags(), h, offset)

    def _handle_for(self, w, f):
        """A live handle for the same struct file (usually) or the same inode."""
        same_file = [h for h in self.handles if w.fds.get(self._mfd[h]) is f]
        same_inode = [h for h in self.handles
                      if w.fds.get(self._mfd[h]) is not None
                      and w.fds[self._mfd[h]].f_inode is f.f_inode]
        if same_file and self.rng.random() < 0.8:
            return self.rng.choice(same_file)
        return self.rng.choice(same_inode) if same_inode else None

    def _touch_page(self, w):
        rng = self.rng
        if rng.random() < 0.8:
            good = []
            for v in self._vmas(w):
                if not v.vm_flags & mmviz.model.vm_flags.VmFlags.VM_WRITE:
                    continue
                for a in range(v.vm_start, v.vm_end, P):
                    f = v.vm_file
                    pg = v.vm_pgoff + (a - v.vm_start) // P
                    if f is None or f.f_inode.kind == "shmem-zero" or pg * P < f.f_inode.i_size:
                        good.append(self._page(a))
            if good:
                return rng.choice(good)
        return rng.randrange(WINDOW_PAGES)


def run_sequence(win, seed):
    """Generate and run one random sequence in lock step; return (ops, failure or None)."""
    rng = random.Random(seed)
    pair = Pair(win)
    gen = Generator(rng, pair.base, pair.mfd, ("mixed", "anon", "file")[seed % 3])
    ops = []
    for _ in range(rng.randint(MIN_OPS, MAX_OPS)):
        op = gen.next(pair)
        ops.append(op)
        msg = step(pair, op)
        if msg is not None:
            return ops, (len(ops) - 1, msg)
    assert len(win.guard_lines()) == 2
    return ops, None


# ------------------------------------------------------------------ fixed cases
#
# The merge rows of tests/oracle/FINDINGS.md (and a few mprotect/file rows) as fixed
# sequences: random sequences reach some of these rules only rarely (two neighbours
# written separately, a never-written VMA losing VM_ACCOUNT), so they are always replayed.

def _anon(page, n, prot, extra=0):
    return ("mmap", page, n * P, prot, PRIVATE | ANON | FIXED | extra, None, 0)


def _file(page, n, prot, mtype, h, pgoff):
    return ("mmap", page, n * P, prot, mtype | FIXED, h, pgoff * P)


FINDINGS_ROWS = {
    "a: two written neighbours, gap mapped": [
        _anon(0, 1, RW), ("touch", 0), _anon(2, 1, RW), ("touch", 2), _anon(1, 1, RW),
        ("touch", 1)],
    "a1: only the left written": [_anon(0, 1, RW), ("touch", 0), _anon(2, 1, RW),
                                  _anon(1, 1, RW)],
    "a2: only the right written": [_anon(0, 1, RW), _anon(2, 1, RW), ("touch", 2),
                                   _anon(1, 1, RW)],
    "b: mprotect joins": [_anon(0, 2, RW), _anon(2, 2, R), ("mprotect", 2, 2 * P, RW)],
    "c: written, then R neighbour": [_anon(0, 1, RW), ("touch", 0), _anon(1, 1, R),
                                     ("mprotect", 1, P, RW), ("touch", 1)],
    "e1: zero-page read does not block": [_anon(0, 1, RW), _anon(1, 1, R), ("read", 1),
                                          ("touch", 0), ("mprotect", 1, P, RW)],
    "e2: untouched joins touched": [_anon(0, 1, R), _anon(1, 1, RW), ("touch", 1),
                                    ("mprotect", 0, P, RW)],
    "e3: distinct anon_vmas": [_anon(0, 1, RW), ("touch", 0), _anon(1, 1, R), _anon(2, 1, RW),
                               ("touch", 2), ("mprotect", 1, P, RW)],
    "e4: W-only written next to RW written": [
        _anon(0, 1, RW), ("touch", 0), _anon(1, 1, W), ("touch", 1), ("mprotect", 1, P, RW)],
    "f0: replace the middle of a written VMA": [_anon(0, 4, RW), ("touch", 0), ("touch", 3),
                                                _anon(1, 2, RW)],
    "f1: re-protect the middle of a written VMA": [
        _anon(0, 4, RW), ("touch", 0), ("mprotect", 1, P, R), ("mprotect", 1, P, RW)],
    "written RW->R keeps VM_ACCOUNT": [_anon(0, 1, RW), ("touch", 0), ("mprotect", 0, P, R),
                                       _anon(1, 1, R)],
    "never-written RW->R drops VM_ACCOUNT": [_anon(0, 1, RW), ("mprotect", 0, P, R),
                                             _anon(1, 1, R)],
    "g: memfd private, left written": [("memfd", "f0", 4 * P),
                                       _file(0, 1, RW, PRIVATE, "f0", 0), ("touch", 0),
                                       _file(1, 1, RW, PRIVATE, "f0", 1)],
    "g1: memfd private, right written": [("memfd", "f0", 4 * P),
                                         _file(1, 1, RW, PRIVATE, "f0", 1), ("touch", 1),
                                         _file(0, 1, RW, PRIVATE, "f0", 0)],
    "g2: memfd private, both written": [("memfd", "f0", 4 * P),
                                        _file(0, 1, RW, PRIVATE, "f0", 0), ("touch", 0),
                                        _file(2, 1, RW, PRIVATE, "f0", 2), ("touch", 2),
                                        _file(1, 1, RW, PRIVATE, "f0", 1)],
    "h: MAP_NORESERVE": [_anon(0, 1, RW), _anon(1, 1, RW, NORESERVE)],
    "h1: MAP_NORESERVE read-only": [_anon(0, 1, R), _anon(1, 1, R, NORESERVE)],
    "i: shared anonymous never merge": [
        ("mmap", 0, P, RW, SHARED | ANON | FIXED, None, 0),
        ("mmap", 1, P, RW, SHARED | ANON | FIXED, None, 0)],
    "j: PROT_NONE anonymous merge": [_anon(0, 1, NONE), _anon(1, 1, NONE)],
    "k: memfd shared continuation": [("memfd", "f0", 4 * P), _file(0, 1, RW, SHARED, "f0", 0),
                                     ("touch", 0), _file(1, 1, RW, SHARED, "f0", 1)],
    "dup: same open file merges": [("memfd", "f0", 4 * P), ("dup", "f1", "f0"),
                                   _file(0, 1, RW, SHARED, "f0", 0),
                                   _file(1, 1, RW, SHARED, "f1", 1)],
    "reopen: another open file never merges": [("memfd", "f0", 4 * P),
                                               ("reopen", "f1", "f0", True),
                                               _file(0, 1, RW, SHARED, "f0", 0),
                                               _file(1, 1, RW, SHARED, "f1", 1)],
    "read-only open lacks VM_MAYWRITE": [("memfd", "f0", 4 * P), ("reopen", "f1", "f0", False),
                                         ("dup", "f2", "f1"),
                                         _file(0, 1, R, SHARED, "f2", 0),
                                         _file(1, 1, R, SHARED, "f1", 1),
                                         ("mprotect", 0, P, RW)],
    "mprotect over a hole changes the part before it": [
        _anon(0, 2, R), _anon(3, 2, R), ("mprotect", 0, 5 * P, RW)],
    "mprotect EACCES in the middle": [("memfd", "f0", 4 * P), ("reopen", "f1", "f0", False),
                                      _anon(0, 1, R), _file(1, 1, R, SHARED, "f1", 0),
                                      _anon(2, 1, R), ("mprotect", 0, 3 * P, RW)],
    "touch past EOF, then ftruncate": [("memfd", "f0", P), _file(0, 3, RW, SHARED, "f0", 0),
                                       ("touch", 1), ("ftruncate", "f0", 2 * P), ("touch", 1)],
}


@pytest.fixture(scope="module")
def window():
    with KernelWindow(pages=WINDOW_PAGES) as win:
        yield win


def test_generator_covers_every_operation(window):
    """The random sequences really exercise every kind of call and both placements."""
    kinds, flags_seen, readonly_reopens = {}, set(), 0
    for seed in range(60):
        ops, _ = run_sequence(window, seed)
        for op in ops:
            kinds[op[0]] = kinds.get(op[0], 0) + 1
            if op[0] == "reopen" and not op[3]:
                readonly_reopens += 1
            if op[0] == "mmap":
                flags_seen.add((op[5] is None, op[4] & 0xF, bool(op[4] & NOREPLACE)))
    assert set(kinds) == {"memfd", "dup", "reopen", "close", "ftruncate", "mmap", "munmap",
                          "mprotect", "touch", "read"}, kinds
    assert {(True, PRIVATE, False), (True, SHARED, False), (False, SHARED, False),
            (False, PRIVATE, False), (True, PRIVATE, True), (False, VALIDATE, False)} <= flags_seen
    assert readonly_reopens > 0


def test_shrinker_finds_a_planted_mismatch(window, monkeypatch):
    """The comparison and the shrinker work: a deliberately broken model is caught and the
    failing sequence shrinks to the one call that matters."""
    ops = [("mmap", 0, 2 * P, RW, PRIVATE | ANON | FIXED, None, 0),
           ("memfd", "f0", 4 * P),
           ("mmap", 5, P, R, SHARED | FIXED, "f0", 0),
           ("mprotect", 0, P, R),
           ("touch", 1),
           ("munmap", 5, P)]
    assert replay(window, ops) is None
    real = mmviz.World.mprotect

    def broken(self, addr, length, prot):   # "forgets" to change part of a mapped VMA
        vma = self.mm.mm_mt.find(addr)
        if vma is not None and addr + length < vma.vm_end:
            return 0
        return real(self, addr, length, prot)
    monkeypatch.setattr(mmviz.World, "mprotect", broken)
    shrunk, res = ddmin(window, ops)
    assert res is not None
    assert shrunk == [ops[0], ops[3]], shrunk


@pytest.mark.parametrize("name", list(FINDINGS_ROWS))
def test_findings_rows_agree_with_kernel(window, name):
    ops = FINDINGS_ROWS[name]
    res = replay(window, ops)
    if res is not None:
        pytest.fail(f"{name}: the model disagrees with the kernel at call {res[0] + 1}:\n\n"
                    f"{program_source(ops, window.base)}\n\n{res[1]}", pytrace=False)


def test_printed_program_reproduces_the_sequence(window):
    """The Python printed for a failing sequence rebuilds exactly the state it describes."""
    def shape(lines):
        return [(e["start"], e["end"], e["perms"], e["offset"], e["name"])
                for e in map(parse_maps_line, lines)]
    for seed in (3, 17, 29):
        ops, failure = run_sequence(window, seed)
        assert failure is None
        namespace = {}
        exec(compile(program_source(ops, window.base), f"<seed {seed}>", "exec"), namespace)
        w = namespace["w"]
        w.validate()
        got = w.proc_maps(window.base, window.base + window.size).splitlines()
        assert shape(got) == shape(window.maps())
        assert len(ops) >= MIN_OPS


def test_model_matches_kernel_on_random_sequences(window):
    started = time.monotonic()
    total_ops = 0
    for seed in range(N_SEQUENCES):
        ops, failure = run_sequence(window, seed)
        total_ops += len(ops)
        if failure is None:
            continue
        shrunk, res = ddmin(window, ops)
        idx, msg = res if res is not None else failure
        pytest.fail(f"seed {seed}: the model disagrees with the kernel at call {idx + 1} of "
                    f"this {len(shrunk)}-call sequence (shrunk from {len(ops)}):\n\n"
                    f"{program_source(shrunk, window.base)}\n\n{msg}", pytrace=False)
    assert total_ops >= N_SEQUENCES * MIN_OPS
    print(f"{N_SEQUENCES} sequences, {total_ops} calls, all agree with the kernel "
          f"({time.monotonic() - started:.1f} s)")
