"""Differential test of the rest of the address space: mremap, madvise, mlock/mlock2/munlock,
fork (parent, child and grandchild) and page contents, against the REAL kernel.

Seeded random sequences mix every call the model has — mmap, munmap, mprotect, touch (with
a value), read, load (the byte's value), memfd/dup/reopen/close/ftruncate, mremap (shrink,
grow, MAYMOVE, FIXED, DONTUNMAP, multi-VMA moves), madvise (the flag-changing advice,
DONTNEED, WILLNEED/COLD/PAGEOUT, invalid advice), mlock, mlock2, munlock, fork and exit —
and run them on a `World` and, through tests/oracle/kernel_window_more.py, in a private
window of a small server process. `fork` forks the server: the following calls run in the
child (and maybe a grandchild) until it exits, and then in the parent again; the model
runs them on the child's Process handle. Some sequences run entirely in a forked child
that has dropped CAP_IPC_LOCK and has a small RLIMIT_MEMLOCK (the model's KernelConfig says
the same), for the mlock/mremap/MAP_LOCKED limit paths.

After every call: the return values agree (a load's byte too); the window's VMAs agree
(start, end, perms, offset, name, file identity) and so do their /proc/self/smaps VmFlags,
which show what maps cannot (VM_LOCKED, VM_DONTCOPY, VM_WIPEONFORK, VM_ACCOUNT...);
VmLck agrees with the model's locked_vm (the DONTUNMAP over-count included); and
`validate_mm` passes with its anon_vma_chain invariants, as does the commit-charge check.

The kernel's anon_vma identity is not visible in maps, so the generator also writes often
and then maps, mprotects and moves next to written VMAs, in parents and in children: a
merge that happens on one side only reveals a different anon_vma structure (spec §3.6).

On a mismatch the sequence is shrunk (delta debugging, replaying both sides from a reset)
and the test fails with the shortest failing sequence printed as Python calls.
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
from mmviz.model.validate import check_commit_charge  # noqa: E402
from oracle import shrink  # noqa: E402
from oracle.kernel_window_more import WindowServer  # noqa: E402

pytestmark = pytest.mark.kernel

P = mmviz.PAGE_SIZE
R, W, X = mmviz.PROT_READ, mmviz.PROT_WRITE, mmviz.PROT_EXEC
NONE = mmviz.PROT_NONE
RW = R | W
SHARED, PRIVATE = mmviz.MAP_SHARED, mmviz.MAP_PRIVATE
ANON, FIXED, NOREPLACE = mmviz.MAP_ANONYMOUS, mmviz.MAP_FIXED, mmviz.MAP_FIXED_NOREPLACE
LOCKED, POPULATE = mmviz.MAP_LOCKED, mmviz.MAP_POPULATE
MAYMOVE, MFIXED, DONTUNMAP = mmviz.MREMAP_MAYMOVE, mmviz.MREMAP_FIXED, mmviz.MREMAP_DONTUNMAP

WINDOW_PAGES = 32
N_SEQUENCES = 1000
MIN_OPS, MAX_OPS = 12, 24
MAX_SHRINK_REPLAYS = 600
MAX_DEPTH = 2                      # parent -> child -> grandchild

FLAG_ADVICE = (0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
OTHER_ADVICE = (3, 4, 20, 21, 24)
INVALID_ADVICE = (5, 7, 100, 12345, -1)


class Mismatch(Exception):
    pass


# ----------------------------------------------------------------------------- the two sides


class Duo:
    """A model World (and its forked Process handles) and the kernel server, in lock step.

    `stack` holds the model process each level of the kernel's fork chain runs as; the
    file-handle maps are per level too (a child's new fds die with it)."""

    def __init__(self, server: WindowServer, limits=None, headroom=None):
        self.server = server
        self.base, self.size = server.base, server.size
        server.call("reset", state=False)
        self.limited = limits is not None or headroom is not None
        self.count_base = None
        config = dict(cap_ipc_lock=server.cap_ipc_lock)
        if self.limited:
            server.call("fork", state=False)
        if limits is not None:
            server.call("limits", state=False, memlock_pages=limits)
            config = dict(cap_ipc_lock=False, rlimit_memlock_pages=limits)
        if headroom is not None:
            # Fill the server child's address space up to vm.max_map_count - headroom (far
            # from the window); the model gets the same headroom above its own VMAs.
            reached = server.call("fill_map_count", state=False, headroom=headroom)["ret"]
            limit = int(open("/proc/sys/vm/max_map_count").read())
            config["max_map_count"] = 2 + limit - reached
            self.count_base = (reached, 2)
        self.w = mmviz.World(soft_dirty=False, **config)
        for name, addr in (("mmviz-guard-lo", self.base - P), ("mmviz-guard-hi", self.base + self.size)):
            fd = self.w.memfd_create(name)
            assert self.w.ftruncate(fd, P) == 0
            assert self.w.mmap(addr, P, NONE, SHARED | FIXED, fd, 0) == addr
            assert self.w.close(fd) == 0
        self.stack = [self.w]
        self.kfd = [{}]
        self.mfd = [{}]
        self.ident_k2m: dict = {}
        self.ident_m2k: dict = {}
        state = server.call("state")
        self.vmlck_base = [0 if self.limited else state["vmlck"]]

    @property
    def proc(self):
        return self.stack[-1]

    def close(self):
        """Leave the server at its top level (exit every child) for the next sequence."""
        while len(self.stack) > 1:
            self.server.call("exit", state=False)
            self.stack.pop()
        if self.limited:
            self.server.call("exit", state=False)
            self.limited = False

    # -------------------------------------------------------------- one call on both sides

    def apply(self, op):
        """Apply op to both sides; return (kernel reply, model result)."""
        kind = op[0]
        m, srv, B = self.proc, self.server, self.base
        kfd, mfd = self.kfd[-1], self.mfd[-1]
        if kind == "fork":
            child = m.fork()
            reply = srv.call("fork")
            self.stack.append(child)
            self.kfd.append(dict(kfd))
            self.mfd.append(dict(mfd))
            self.vmlck_base.append(0)
            return reply, 0
        if kind == "exit":
            m.exit()
            srv.call("exit", state=False)
            self.stack.pop()
            self.kfd.pop()
            self.mfd.pop()
            self.vmlck_base.pop()
            return srv.call("state"), 0
        if kind == "memfd":
            mf = m.memfd_create(op[1])
            reply = srv.call("memfd_create", op[1], state=False)
            kfd[op[1]], mfd[op[1]] = reply["ret"], mf
            return srv.call("ftruncate", reply["ret"], op[2]), m.ftruncate(mf, op[2])
        if kind in ("dup", "reopen"):
            if kind == "dup":
                reply, mf = srv.call("dup", kfd[op[2]]), m.dup(mfd[op[2]])
            else:
                reply = srv.call("reopen", kfd[op[2]], op[3])
                mf = m.reopen(mfd[op[2]], mmviz.O_RDWR if op[3] else mmviz.O_RDONLY)
            kfd[op[1]], mfd[op[1]] = reply["ret"], mf
            return dict(reply, ret=reply["ret"] >= 0), mf >= 0
        if kind == "close":
            return srv.call("close_fd", kfd.pop(op[1])), m.close(mfd.pop(op[1]))
        if kind == "ftruncate":
            return srv.call("ftruncate", kfd[op[1]], op[2]), m.ftruncate(mfd[op[1]], op[2])
        if kind == "mmap":
            _, page, length, prot, flags, h, offset = op
            kf = -1 if h is None else kfd[h]
            mf = -1 if h is None else mfd[h]
            return (srv.call("mmap", B + page * P, length, prot, flags, kf, offset),
                    m.mmap(B + page * P, length, prot, flags, mf, offset))
        if kind == "munmap":
            return srv.call("munmap", B + op[1] * P, op[2]), m.munmap(B + op[1] * P, op[2])
        if kind == "mprotect":
            return (srv.call("mprotect", B + op[1] * P, op[2], op[3]),
                    m.mprotect(B + op[1] * P, op[2], op[3]))
        if kind == "mremap":
            _, page, old_len, new_len, flags, new_page = op
            args = (B + page * P, old_len, new_len, flags, B + new_page * P)
            return srv.call("mremap", *args), m.mremap(*args)
        if kind == "madvise":
            return (srv.call("madvise", B + op[1] * P, op[2], op[3]),
                    m.madvise(B + op[1] * P, op[2], op[3]))
        if kind in ("mlock", "munlock"):
            return (srv.call(kind, B + op[1] * P + op[3], op[2]),
                    getattr(m, kind)(B + op[1] * P + op[3], op[2]))
        if kind == "mlock2":
            return (srv.call("mlock2", B + op[1] * P, op[2], op[3]),
                    m.mlock2(B + op[1] * P, op[2], op[3]))
        if kind in ("touch", "read", "load"):
            addr = B + op[1] * P + 0x123
            args = (addr, op[2]) if kind == "touch" else (addr,)
            res = getattr(m, kind)(*args)
            if res < 0:
                # The model says the access kills the process: the harness must refuse it
                # too (it only allows accesses it can prove safe); nothing is accessed.
                reply = srv.call("vet_access", addr, "w" if kind == "touch" else "r")
                if "refused" not in reply:
                    raise Mismatch(f"the model says the {kind} faults ({res}) but the kernel "
                                   "would allow it")
                reply.pop("refused")
                return dict(reply, ret=res), res
            reply = srv.call(kind, *args)
            if "refused" in reply:
                why = reply.pop("refused")
                vma = m.mm.mm_mt.find(addr)
                if kind != "touch" and vma is not None \
                        and not vma.vm_flags & R and vma.vm_flags & (W | X):
                    # x86 lets a read fault in a write- or exec-only VMA succeed, as the
                    # model does; the harness only reads 'r' pages. Nothing to compare.
                    return dict(reply, ret=res), res
                raise Mismatch(f"the model allowed the {kind} but the harness refused it: {why}")
            if kind == "read":
                reply["ret"] = 0
            return reply, res
        raise AssertionError(op)

    # -------------------------------------------------------------- the comparison

    def compare(self, reply):
        kern = reply["vmas"]
        mproc = self.proc
        lo, hi = self.base, self.base + self.size
        model = []
        for line, (_, _, flags) in zip(mproc.proc_maps(lo, hi).splitlines(),
                                       mproc.smaps_flags(lo, hi)):
            fields = line.split(None, 5)
            s, e = (int(x, 16) for x in fields[0].split("-"))
            model.append({"start": s, "end": e, "perms": fields[1], "offset": int(fields[2], 16),
                          "dev": fields[3], "inode": int(fields[4]),
                          "name": fields[5] if len(fields) > 5 else "", "flags": sorted(flags)})

        def shape(e):
            return (e["start"], e["end"], e["perms"], e["offset"], e["name"])
        if [shape(e) for e in kern] != [shape(e) for e in model]:
            raise Mismatch("maps differ")
        if self.count_base is not None:
            kbase, mbase = self.count_base
            if reply["map_count"] - kbase != mproc.mm.map_count - mbase:
                raise Mismatch(f"map_count moved by {reply['map_count'] - kbase} in the kernel "
                               f"and by {mproc.mm.map_count - mbase} in the model")
        for k, m in zip(kern, model):
            if "flags" in k and k["flags"] != m["flags"]:
                raise Mismatch(f"VmFlags differ at page {(k['start'] - self.base) // P}: kernel "
                               f"{' '.join(k.get('flags', []))}, model {' '.join(m['flags'])}")
            kid, mid = (k["dev"], k["inode"]), (m["dev"], m["inode"])
            if k["inode"] == 0 or m["inode"] == 0:
                if k["inode"] != m["inode"]:
                    raise Mismatch(f"one side is anonymous at {k['start']:#x}, the other not")
                continue
            bound_m = self.ident_k2m.setdefault(kid, mid)
            bound_k = self.ident_m2k.setdefault(mid, kid)
            if bound_m != mid or bound_k != kid:
                raise Mismatch(f"file identity differs at {k['start']:#x}")
        locked = reply["vmlck"] - self.vmlck_base[-1]
        if locked != mproc.mm.locked_vm:
            raise Mismatch(f"VmLck is {locked} pages above the start, the model's locked_vm "
                           f"{mproc.mm.locked_vm}")

    def maps_text(self, reply=None):
        def rel(entries):
            out = []
            for e in entries:
                out.append(f"  [{(e['start'] - self.base) // P},{(e['end'] - self.base) // P}) "
                           f"{e['perms']} {e['offset']:08x} {e['name']} "
                           f"[{' '.join(e.get('flags', []))}]".rstrip())
            return "\n".join(out) or "  (empty)"
        lo, hi = self.base, self.base + self.size
        model = [dict(start=s, end=e, perms=self.proc.proc_maps(s, s + 1).split()[1], offset=0,
                      name="", flags=f) for s, e, f in self.proc.smaps_flags(lo, hi)]
        kern = (reply or self.server.call("state"))["vmas"]
        return (f"kernel (process depth {len(self.stack)}, pages from B):\n{rel(kern)}\n"
                f"model:\n{rel(model)}")


def step(duo, op):
    """Apply one op to both sides and compare; None or the mismatch described."""
    reply = None
    try:
        reply, m = duo.apply(op)
        if "refused" in reply:
            raise Mismatch(f"the harness refused the call: {reply['refused']}")
        k = reply["ret"]
        if k != m:
            raise Mismatch(f"return values differ: kernel {k!r}, model {m!r}")
        for p in duo.stack:
            p.validate()
        check_commit_charge(duo.w)
        duo.compare(reply)
    except (Mismatch, ModelBug) as e:
        return f"{type(e).__name__}: {e}\n{duo.maps_text(reply)}"
    return None


def normalise(ops):
    """Drop ops whose handle is not live at their depth, and exits without a child."""
    depth = 0
    live = [set()]
    out = []
    for op in ops:
        kind = op[0]
        if kind in ("limits", "map_count"):
            if out:
                continue
        elif kind == "fork":
            if depth >= MAX_DEPTH:
                continue
            depth += 1
            live.append(set(live[-1]))
        elif kind == "exit":
            if depth == 0:
                continue
            depth -= 1
            live.pop()
        uses = ([op[2]] if kind in ("dup", "reopen") else [op[1]] if kind in ("close", "ftruncate")
                else [op[5]] if kind == "mmap" and op[5] is not None else [])
        if any(h not in live[-1] for h in uses):
            continue
        if kind == "close":
            live[-1].discard(op[1])
        if kind in ("memfd", "dup", "reopen"):
            live[-1].add(op[1])
        out.append(op)
    return out


def replay(server, ops):
    """Run ops from a reset; None or (index, message)."""
    limits = ops[0][1] if ops and ops[0][0] == "limits" else None
    headroom = ops[0][1] if ops and ops[0][0] == "map_count" else None
    duo = Duo(server, limits, headroom)
    try:
        for i, op in enumerate(ops):
            if op[0] in ("limits", "map_count"):
                continue
            msg = step(duo, op)
            if msg is not None:
                return i, msg
    finally:
        duo.close()
    return None


def ddmin(server, ops):
    """Delta debugging: a shortest op list (by removal) that still fails."""
    return shrink.ddmin(lambda c: replay(server, c), normalise, ops, MAX_SHRINK_REPLAYS)


def program_source(ops, base) -> str:
    """The ops as Python calls on a World (B = window base, P = page size)."""
    lines = ["import mmviz", "from mmviz import *", "P = PAGE_SIZE; R = PROT_READ; RW = R | PROT_WRITE",
             f"B = {base:#x}"]
    cfg = "soft_dirty=False"
    if ops and ops[0][0] == "limits":
        cfg += f", cap_ipc_lock=False, rlimit_memlock_pages={ops[0][1]}"
    if ops and ops[0][0] == "map_count":
        cfg += f", max_map_count=2 + {ops[0][1]}  # the kernel's headroom"
    lines += [f"w = World({cfg})",
              f"for _a in (B - P, B + {WINDOW_PAGES}*P):  # the two guard pages",
              "    _g = w.memfd_create('guard'); w.ftruncate(_g, P)",
              "    w.mmap(_a, P, PROT_NONE, MAP_SHARED|MAP_FIXED, _g, 0); w.close(_g)"]
    names = ["w"]
    for op in ops:
        p = names[-1]
        kind = op[0]
        if kind in ("limits", "map_count"):
            continue
        if kind == "fork":
            names.append(f"c{len(names)}")
            lines.append(f"{names[-1]} = {p}.fork()")
            continue
        if kind == "exit":
            lines.append(f"{p}.exit()")
            names.pop()
            continue
        if kind == "memfd":
            lines.append(f"{op[1]} = {p}.memfd_create({op[1]!r}); {p}.ftruncate({op[1]}, {op[2]})")
        elif kind == "dup":
            lines.append(f"{op[1]} = {p}.dup({op[2]})")
        elif kind == "reopen":
            lines.append(f"{op[1]} = {p}.reopen({op[2]}, {'O_RDWR' if op[3] else 'O_RDONLY'})")
        elif kind == "close":
            lines.append(f"{p}.close({op[1]})")
        elif kind == "ftruncate":
            lines.append(f"{p}.ftruncate({op[1]}, {op[2]})")
        elif kind == "mmap":
            _, page, length, prot, flags, h, offset = op
            lines.append(f"{p}.mmap(B+{page}*P, {length}, {prot:#x}, {flags:#x}, "
                         f"{'-1' if h is None else h}, {offset})")
        elif kind in ("munmap",):
            lines.append(f"{p}.munmap(B+{op[1]}*P, {op[2]})")
        elif kind == "mprotect":
            lines.append(f"{p}.mprotect(B+{op[1]}*P, {op[2]}, {op[3]:#x})")
        elif kind == "mremap":
            lines.append(f"{p}.mremap(B+{op[1]}*P, {op[2]}, {op[3]}, {op[4]}, B+{op[5]}*P)")
        elif kind == "madvise":
            lines.append(f"{p}.madvise(B+{op[1]}*P, {op[2]}, {op[3]})")
        elif kind in ("mlock", "munlock"):
            lines.append(f"{p}.{kind}(B+{op[1]}*P+{op[3]}, {op[2]})")
        elif kind == "mlock2":
            lines.append(f"{p}.mlock2(B+{op[1]}*P, {op[2]}, {op[3]})")
        elif kind == "touch":
            lines.append(f"{p}.touch(B+{op[1]}*P+0x123, {op[2]})")
        elif kind in ("read", "load"):
            lines.append(f"{p}.{kind}(B+{op[1]}*P+0x123)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- generation


class Gen:
    """Random calls steered by the model's state (which equals the kernel's) so that most
    of them do something: ranges touch existing VMAs, targets sit next to written ones."""

    def __init__(self, rng, duo, focus):
        self.rng = rng
        self.duo = duo
        self.focus = focus
        self.handles = [[]]
        self.next_handle = 0
        self.pending = []

    @property
    def proc(self):
        return self.duo.proc

    def vmas(self):
        b = self.duo.base
        return list(self.proc.vmas(b, b + WINDOW_PAGES * P))

    def page(self, addr):
        return (addr - self.duo.base) // P

    def rand_range(self, maxpages=6):
        """A start page and a page count: mostly inside one VMA (so that calls succeed and
        split or merge), sometimes a whole VMA, over its edges, or anywhere."""
        rng = self.rng
        vmas = self.vmas()
        r = rng.random()
        if vmas and r < 0.55:
            v = rng.choice(vmas)
            s, e = self.page(v.vm_start), self.page(v.vm_end)
            start = rng.randrange(s, e)
            n = rng.randrange(1, e - start + 1)
            if rng.random() < 0.3:
                start, n = s, e - s
            return start, n
        n = rng.choice((1, 1, 2, 2, 3, 4, maxpages))
        if vmas and r < 0.85:
            v = rng.choice(vmas)
            s, e = self.page(v.vm_start), self.page(v.vm_end)
            start = rng.choice((s, e, s - n, e - 1, s - 1))
        else:
            start = rng.randrange(WINDOW_PAGES)
        start = max(0, min(start, WINDOW_PAGES - 1))
        n = max(1, min(n, WINDOW_PAGES - start))
        return start, n

    def written_neighbour_prot(self, start, n, prot):
        tree = self.proc.mm.mm_mt
        a, b = self.duo.base + start * P, self.duo.base + (start + n) * P
        near = [v for v in (tree.prev_before(a), tree.next_from(b))
                if v is not None and v.vm_end >= a - P and v.vm_start <= b + P]
        if near and self.rng.random() < 0.6:
            return self.rng.choice(near).vm_flags & (R | W | X)
        return prot

    def new_handle(self):
        h = f"f{self.next_handle}"
        self.next_handle += 1
        self.handles[-1].append(h)
        return h

    WEIGHTS = {
        "anon": dict(mmap=26, munmap=6, mprotect=10, touch=18, read=2, load=6, mremap=16,
                     madvise=12, mlock=7, fork=3, file=2),
        "file": dict(mmap=14, file=20, munmap=6, mprotect=8, touch=14, read=2, load=8,
                     mremap=14, madvise=8, mlock=4, fork=3),
        "fork": dict(mmap=20, munmap=5, mprotect=10, touch=18, read=2, load=8, mremap=12,
                     madvise=10, mlock=5, fork=10, file=4),
    }

    def next(self):
        if self.pending:
            return self.pending.pop(0)
        rng = self.rng
        depth = len(self.duo.stack) - 1
        weights = dict(self.WEIGHTS[self.focus])
        if depth:
            weights["exit"] = 9
        kind = rng.choices(list(weights), list(weights.values()))[0]
        if kind == "fork":
            if depth >= MAX_DEPTH:
                kind = "touch"
            else:
                self.handles.append(list(self.handles[-1]))
                return ("fork",)
        if kind == "exit":
            self.handles.pop()
            return ("exit",)
        if kind == "file":
            return self.file_op()
        return getattr(self, kind)()

    def file_op(self):
        rng = self.rng
        hs = self.handles[-1]
        if not hs or rng.random() < 0.3:
            return ("memfd", self.new_handle(), rng.choice((4, 8, 12, 16)) * P)
        r = rng.random()
        src = rng.choice(hs)
        if r < 0.3:
            return ("dup", self.new_handle(), src)
        if r < 0.55:
            return ("reopen", self.new_handle(), src, rng.random() < 0.7)
        if r < 0.8:
            return ("ftruncate", rng.choice(hs), rng.choice((0, 2, 5, 9, 16)) * P
                    + rng.choice((0, 0, 100)))
        if len(hs) > 1:
            h = rng.choice(hs)
            hs.remove(h)
            return ("close", h)
        return ("read", rng.randrange(WINDOW_PAGES))

    def mmap(self):
        rng = self.rng
        start, n = self.rand_range()
        hs = self.handles[-1]
        place = NOREPLACE if rng.random() < 0.2 else FIXED
        extra = (LOCKED if rng.random() < 0.05 else 0) | (POPULATE if rng.random() < 0.04 else 0)
        prot = rng.choice((RW, RW, RW, R, NONE, W, RW | X))
        if hs and rng.random() < (0.5 if self.focus == "file" else 0.15):
            h = rng.choice(hs)
            f = self.proc.fds[self.duo.mfd[-1][h]]
            offset = rng.randrange(0, 8) * P
            prev = self.proc.mm.mm_mt.prev_before(self.duo.base + start * P)
            if prev is not None and prev.vm_file is f and rng.random() < 0.6:
                offset = (prev.vm_pgoff + prev.pages()) * P
            mtype = rng.choice((SHARED, PRIVATE, PRIVATE))
            if mtype == SHARED and not f.f_mode & 2 and prot & W:
                prot = R
            prot = self.written_neighbour_prot(start, n, prot)
            return ("mmap", start, n * P, prot, mtype | place | extra, h, offset)
        mtype = SHARED if rng.random() < 0.08 else PRIVATE
        prot = self.written_neighbour_prot(start, n, prot)
        op = ("mmap", start, n * P, prot, mtype | ANON | place | extra, None, 0)
        if prot & W and mtype == PRIVATE and rng.random() < 0.5:
            self.pending.append(("touch", start + rng.randrange(n), rng.randrange(1, 256)))
        return op

    def munmap(self):
        start, n = self.rand_range()
        return ("munmap", start, n * P)

    def mprotect(self):
        start, n = self.rand_range()
        prot = self.written_neighbour_prot(start, n, self.rng.choice((RW, R, NONE, RW | X)))
        return ("mprotect", start, n * P, prot)

    def touch(self):
        rng = self.rng
        good = []
        for v in self.vmas():
            if not v.vm_flags & W:
                continue
            for a in range(v.vm_start, v.vm_end, P):
                f = v.vm_file
                idx = v.vm_pgoff + (a - v.vm_start) // P
                if f is None or f.f_inode.kind == "shmem-zero" or idx * P < f.f_inode.i_size:
                    good.append(self.page(a))
        page = rng.choice(good) if good and rng.random() < 0.9 else rng.randrange(WINDOW_PAGES)
        return ("touch", page, rng.randrange(1, 256))

    def read(self):
        return ("read", self.rng.randrange(WINDOW_PAGES))

    def load(self):
        good = [self.page(a) for v in self.vmas() if v.vm_flags & R
                for a in range(v.vm_start, v.vm_end, P)
                if v.vm_file is None or v.vm_file.f_inode.kind == "shmem-zero"
                or (v.vm_pgoff + (a - v.vm_start) // P) * P < v.vm_file.f_inode.i_size]
        rng = self.rng
        return ("load", rng.choice(good) if good and rng.random() < 0.9
                else rng.randrange(WINDOW_PAGES))

    def madvise(self):
        rng = self.rng
        start, n = self.rand_range()
        r = rng.random()
        advice = (rng.choice(FLAG_ADVICE) if r < 0.7 else rng.choice(OTHER_ADVICE) if r < 0.93
                  else rng.choice(INVALID_ADVICE))
        length = n * P if rng.random() > 0.05 else 0
        return ("madvise", start, length, advice)

    def mlock(self):
        rng = self.rng
        start, n = self.rand_range()
        r = rng.random()
        if r < 0.45:
            offset = rng.choice((0, 0, 0, 10)) if start + n < WINDOW_PAGES else 0
            return ("mlock", start, n * P - rng.choice((0, 0, 0, 100)), offset)
        if r < 0.65:
            return ("mlock2", start, n * P, rng.choice((1, 1, 0, 2)))
        return ("munlock", start, n * P, 0)

    def mremap(self):
        rng = self.rng
        duo = self.duo
        vmas = self.vmas()
        start, n = self.rand_range()
        if vmas and rng.random() < 0.8:
            v = rng.choice(vmas)
            s, e = self.page(v.vm_start), self.page(v.vm_end)
            start = rng.randrange(s, e)
            n = rng.randrange(1, e - start + 1)
            if rng.random() < 0.5:
                start, n = s, e - s
            if rng.random() < 0.15:                  # run over the next VMAs / holes
                n = min(WINDOW_PAGES - start, n + rng.randrange(1, 5))
        old = n
        kind = rng.random()
        if kind < 0.2:
            new = rng.randrange(1, old + 1)          # shrink (or no resize)
        elif kind < 0.45:
            new = old + rng.randrange(1, 4)          # grow
        else:
            new = old
        flags = rng.choice((0, MAYMOVE, MAYMOVE | MFIXED, MAYMOVE | MFIXED, MAYMOVE | MFIXED,
                            MAYMOVE | MFIXED | DONTUNMAP, MAYMOVE | DONTUNMAP))
        if rng.random() < 0.04:
            flags = rng.choice((MFIXED, DONTUNMAP, 8, MAYMOVE | 16))
        if flags & DONTUNMAP:
            new = old
        old_len = 0 if rng.random() < 0.03 else old * P
        if flags & (MFIXED | DONTUNMAP):
            target = self.target(new, start)
            # DONTUNMAP without FIXED takes new_addr as a hint only: keep it free, so that
            # the kernel never chooses an address itself (kernel_window_more's rules).
            if flags & DONTUNMAP and not flags & MFIXED and not self.free(target, new):
                flags |= MFIXED
            return ("mremap", start, old_len, new * P, flags, target)
        if new * P > old_len:
            if start + new > WINDOW_PAGES:
                new = old
            vma = duo.proc.mm.mm_mt.find(duo.base + start * P)
            in_place = (vma is not None and vma.vm_end == duo.base + (start + old) * P
                        and old_len > 0 and self.free(start + old, new - old))
            if not in_place:
                flags &= ~MAYMOVE          # growth that would move: ENOMEM instead
        return ("mremap", start, old_len, new * P, flags, 0)

    def free(self, page, n):
        if page < 0 or page + n > WINDOW_PAGES:
            return False
        a = self.duo.base + page * P
        return self.proc.mm.mm_mt.find_intersection(a, a + n * P) is None

    def target(self, n, start):
        """A destination of n pages: often right next to a (written) VMA, so it merges."""
        rng = self.rng
        vmas = self.vmas()
        cands = []
        for v in vmas:
            s, e = self.page(v.vm_start), self.page(v.vm_end)
            cands += [e, s - n]
        if rng.random() < 0.1:
            cands.append(start + rng.randrange(-2, 3))     # overlapping: -EINVAL
        if cands and rng.random() < 0.7:
            t = rng.choice(cands)
        else:
            t = rng.randrange(WINDOW_PAGES)
        return max(0, min(t, WINDOW_PAGES - max(n, 1)))


def run_sequence(server, seed):
    """Generate and run one random sequence in lock step; (ops, failure or None)."""
    rng = random.Random(seed)
    limits = rng.choice((4, 8, 16, 24)) if seed % 10 == 7 else None
    duo = Duo(server, limits)
    gen = Gen(rng, duo, ("anon", "file", "fork")[seed % 3])
    ops = [("limits", limits)] if limits is not None else []
    try:
        n = rng.randint(MIN_OPS, MAX_OPS)
        for i in range(n):
            # Start with a few mappings, so that the other calls have VMAs to act on.
            op = gen.mmap() if i < 3 and not gen.pending else gen.next()
            ops.append(op)
            msg = step(duo, op)
            if msg is not None:
                return ops, (len(ops) - 1, msg)
    finally:
        duo.close()
    return ops, None


# ----------------------------------------------------------------------------- fixed cases


def _anon(page, n, prot=RW, extra=0):
    return ("mmap", page, n * P, prot, PRIVATE | ANON | FIXED | extra, None, 0)


def _mr(page, old, new, flags, target=0):
    return ("mremap", page, old * P, new * P, flags, target)


SPEC_CASES = {
    # spec §2.10 (mremap)
    "R1": [_anon(0, 4), _mr(0, 4, 4, 8), _mr(0, 4, 0, 0), _mr(0, 4, 4, MFIXED, 20),
           _mr(0, 4, 8, MAYMOVE | DONTUNMAP, 20), _mr(0, 4, 4, MAYMOVE | MFIXED, 2)],
    "R2": [_anon(0, 4), _mr(10, 2, 4, 0), _mr(0, 6, 8, 0), _mr(0, 0, 4, MAYMOVE | MFIXED, 20)],
    "R3": [_anon(0, 4), _anon(4, 4, R), _mr(2, 6, 2, 0)],
    "R4": [_anon(0, 4), _anon(6, 2), _mr(0, 4, 8, 0), _mr(0, 4, 6, 0)],
    "R5": [_anon(0, 2), _anon(3, 2), _mr(0, 5, 5, MAYMOVE | MFIXED, 20)],
    "R5b": [_anon(1, 2), _anon(3, 2, R), _mr(0, 5, 5, MAYMOVE | MFIXED, 20)],
    "R6": [_anon(0, 2), _anon(3, 2), _mr(0, 5, 5, MAYMOVE)],
    "R7": [_anon(0, 4), ("touch", 0, 7), _anon(20, 4), _mr(0, 4, 4, MAYMOVE | MFIXED, 24),
           _anon(4, 4), _mr(24, 4, 4, MAYMOVE | MFIXED, 0), ("load", 0)],
    "R8": [("limits", 16), _anon(0, 8), ("mlock", 0, 8 * P, 0), _mr(0, 8, 12, 0),
           _anon(20, 8, RW, LOCKED), _mr(0, 12, 20, 0), _anon(24, 4, RW, LOCKED)],
    "R9": [_anon(0, 4), ("touch", 0, 7), ("mlock", 0, 4 * P, 0),
           _mr(0, 4, 4, MAYMOVE | MFIXED | DONTUNMAP, 20), ("load", 0), ("load", 20),
           ("munmap", 0, 4 * P), ("munmap", 20, 4 * P)],
    "shrink across": [_anon(0, 2), _anon(3, 2), _mr(0, 5, 1, 0)],
    "move unfaulted next to unfaulted": [_anon(0, 4), _anon(20, 4), _mr(0, 4, 4, MAYMOVE | MFIXED, 24)],
    "move into itself": [_anon(0, 8), _mr(4, 4, 4, MAYMOVE | MFIXED, 0)],
    "dontunmap part": [_anon(0, 8), ("touch", 2, 3), _mr(2, 2, 2, MAYMOVE | MFIXED | DONTUNMAP, 20),
                       ("load", 2), ("load", 20)],
    "dontunmap hint": [_anon(0, 4), ("touch", 1, 3), _mr(0, 4, 4, MAYMOVE | DONTUNMAP, 10),
                       ("load", 11)],
    "grow over gap fixed": [_anon(0, 2), _mr(0, 2, 6, MAYMOVE | MFIXED, 20)],
    "file move merges": [("memfd", "f0", 16 * P), ("mmap", 0, 4 * P, RW, SHARED | FIXED, "f0", 0),
                         ("mmap", 8, 4 * P, RW, SHARED | FIXED, "f0", 4 * P),
                         _mr(8, 4, 4, MAYMOVE | MFIXED, 4), ("touch", 5, 9), ("load", 5)],
    # spec §3.6 (fork)
    "F1": [_anon(0, 4), ("touch", 0, 1), ("fork",), _anon(4, 4), ("exit",), _anon(4, 4)],
    "F2": [_anon(0, 4), ("read", 0), ("fork",), _anon(4, 4), ("exit",), _anon(4, 4)],
    "F3": [_anon(0, 4), ("touch", 0, 1), _anon(4, 4, R), ("fork",), ("mprotect", 4, 4 * P, RW),
           ("exit",), ("mprotect", 4, 4 * P, RW)],
    "F4": [_anon(0, 8), ("touch", 0, 1), ("mprotect", 4, 4 * P, R), ("fork",),
           ("mprotect", 4, 4 * P, RW), ("exit",), ("mprotect", 4, 4 * P, RW)],
    "F5": [_anon(0, 8), ("touch", 0, 1), ("fork",), ("mprotect", 2, 2 * P, R),
           ("mprotect", 2, 2 * P, RW), ("exit",), ("mprotect", 2, 2 * P, R),
           ("mprotect", 2, 2 * P, RW)],
    "F6": [_anon(0, 4), ("touch", 0, 7), ("madvise", 0, 4 * P, 18), _anon(4, 4), ("fork",),
           ("load", 0), ("madvise", 0, 4 * P, 19), ("exit",), ("load", 0),
           ("madvise", 0, 4 * P, 19)],
    "F6c": [_anon(0, 4), ("touch", 0, 7), ("madvise", 0, 4 * P, 16), _anon(4, 4), ("fork",),
            ("load", 0), ("madvise", 0, 4 * P, 17), ("exit",), ("load", 0),
            ("madvise", 0, 4 * P, 17)],
    "F7": [_anon(20, 4), ("touch", 20, 1), ("fork",), _mr(20, 4, 4, MAYMOVE | MFIXED, 0),
           _anon(24, 4), _mr(0, 4, 4, MAYMOVE | MFIXED, 20), ("exit",),
           _mr(20, 4, 4, MAYMOVE | MFIXED, 0), _anon(24, 4), _mr(0, 4, 4, MAYMOVE | MFIXED, 20)],
    "F8": [_anon(0, 4), ("touch", 0, 1), ("fork",), _mr(0, 4, 4, MAYMOVE | MFIXED | DONTUNMAP, 20),
           _anon(4, 4), ("exit",)],
    "F9": [_anon(0, 4), ("touch", 0, 1), ("fork",), ("fork",), _anon(4, 4), ("exit",),
           ("exit",)],
    "dontfork and mlock across fork": [_anon(0, 8), ("madvise", 2, 2 * P, 10),
                                       ("mlock", 4, 4 * P, 0), ("fork",), ("load", 5), ("exit",)],
    "cow both ways": [_anon(0, 2), ("touch", 0, 1), ("fork",), ("touch", 0, 2), ("load", 0),
                      ("exit",), ("load", 0), ("touch", 0, 3), ("load", 0)],
    "shared memfd across fork": [("memfd", "f0", 4 * P), ("mmap", 0, 2 * P, RW, SHARED | FIXED, "f0", 0),
                                 ("fork",), ("touch", 0, 5), ("exit",), ("load", 0)],
    # spec §4.8 (madvise, mlock)
    "A1": [_anon(0, 8), ("madvise", 28, P, 12345), ("madvise", 28, 0, 10), ("madvise", 28, P, 10)],
    "A2": [_anon(0, 8), ("madvise", 2, 2 * P, 10), ("madvise", 2, 2 * P, 11)],
    "A3": [_anon(2, 2), _anon(4, 2, R), ("madvise", 0, 6 * P, 10)],
    "A4": [("memfd", "f0", 8 * P), _anon(0, 2), ("mmap", 2, 2 * P, RW, PRIVATE | FIXED, "f0", 0),
           _anon(4, 2), ("madvise", 0, 6 * P, 18)],
    "A5": [_anon(0, 4), ("touch", 0, 9), ("mlock", 2, 2 * P, 0), ("madvise", 0, 4 * P, 4),
           ("load", 0)],
    "A7": [_anon(0, 2), _anon(4, 2), ("mlock", 0, 6 * P, 0), ("munlock", 0, 8 * P, 0)],
    "A8": [_anon(0, 2, NONE), ("mlock", 0, 2 * P, 0), ("mlock2", 0, 2 * P, 1)],
    "A9 no limit": [("limits", 0), _anon(0, 4), ("mlock", 0, P, 0), ("munlock", 0, P, 0)],
    "A9 limit": [("limits", 16), _anon(0, 28), ("mlock", 0, 8 * P, 0), ("mlock", 8, 16 * P, 0),
                 ("mlock", 0, 8 * P, 0), ("mlock", 4, 12 * P, 0), ("mlock2", 0, P, 2),
                 ("mlock", 0, 10, 10)],
    "read advice": [_anon(0, 6), ("madvise", 2, 2 * P, 1), ("madvise", 2, 2 * P, 2),
                    ("madvise", 2, 2 * P, 0), ("madvise", 2, 2 * P, 14), ("madvise", 2, 2 * P, 15)],
    "dontneed file cow": [("memfd", "f0", 4 * P), ("mmap", 10, P, RW, SHARED | FIXED, "f0", 0),
                          ("touch", 10, 1), ("mmap", 0, P, RW, PRIVATE | FIXED, "f0", 0),
                          ("touch", 0, 2), ("madvise", 0, P, 4), ("load", 0)],
    "truncate private copies": [("memfd", "f0", 4 * P), ("mmap", 0, 4 * P, RW, PRIVATE | FIXED, "f0", 0),
                                ("touch", 3, 5), ("ftruncate", "f0", 2 * P), ("ftruncate", "f0", 4 * P),
                                ("load", 3)],
}


# At vm.max_map_count (spec §4.8 A6 and §2.1/§0): run in a server child whose address space
# is filled up to the limit minus the headroom given first; maps come from PROCMAP_QUERY
# (VmFlags are not read: /proc/self/smaps of 65,530 VMAs is too big to read there).
MAP_COUNT_CASES = {
    "A6": [("map_count", 1), _anon(0, 3), ("madvise", 1, P, 10), ("mprotect", 1, P, R),
           ("mlock", 1, P, 0), ("madvise", 0, 3 * P, 10), ("munmap", 0, 3 * P)],
    "new mapping at the limit": [("map_count", 2), _anon(0, 1), _anon(2, 1), _anon(4, 1),
                                 ("munmap", 4, P), ("mprotect", 0, P, R)],
    "mremap near the limit": [("map_count", 6), _anon(0, 8), _anon(10, 1, R), _anon(12, 1),
                              _mr(0, 8, 4, 0), _mr(0, 2, 2, MAYMOVE | MFIXED, 20),
                              _mr(0, 4, 2, 0), _anon(14, 1, R), _mr(0, 2, 2, MAYMOVE | MFIXED, 20),
                              _mr(0, 2, 1, 0)],
}


# ----------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def server():
    with WindowServer(WINDOW_PAGES) as srv:
        yield srv


@pytest.mark.parametrize("name", list(SPEC_CASES))
def test_spec_cases_agree_with_kernel(server, name):
    ops = SPEC_CASES[name]
    res = replay(server, ops)
    if res is not None:
        pytest.fail(f"{name}: the model disagrees with the kernel at call {res[0] + 1}:\n\n"
                    f"{program_source(ops, server.base)}\n\n{res[1]}", pytrace=False)


@pytest.mark.parametrize("name", list(MAP_COUNT_CASES))
def test_map_count_cases_agree_with_kernel(server, name):
    ops = MAP_COUNT_CASES[name]
    res = replay(server, ops)
    if res is not None:
        pytest.fail(f"{name}: the model disagrees with the kernel at call {res[0] + 1}:\n\n"
                    f"{program_source(ops, server.base)}\n\n{res[1]}", pytrace=False)


def test_generator_covers_every_call(server):
    kinds, flags, advice = {}, set(), set()
    for seed in range(60):
        ops, failure = run_sequence(server, seed)
        assert failure is None, failure[1]
        for op in ops:
            kinds[op[0]] = kinds.get(op[0], 0) + 1
            if op[0] == "mremap":
                flags.add(op[4])
            if op[0] == "madvise":
                advice.add(op[3])
    assert set(kinds) >= {"mmap", "munmap", "mprotect", "touch", "read", "load", "mremap",
                          "madvise", "mlock", "mlock2", "munlock", "fork", "exit", "memfd",
                          "dup", "reopen", "ftruncate", "limits"}, kinds
    assert {0, MAYMOVE, MAYMOVE | MFIXED, MAYMOVE | MFIXED | DONTUNMAP} <= flags
    assert set(FLAG_ADVICE) <= advice


def test_shrinker_finds_a_planted_mismatch(server, monkeypatch):
    """A model that forgets VM_DONTCOPY in the child is caught, and the sequence shrinks."""
    ops = [_anon(0, 4), ("touch", 0, 1), ("madvise", 0, 2 * P, 10), _anon(10, 2),
           ("fork",), ("load", 0), ("exit",)]
    assert replay(server, ops) is None
    real = mmviz.World.madvise

    def broken(self, addr, length, advice):     # "forgets" to apply DONTFORK to mapped memory
        if advice == 10 and self.mm.mm_mt.find(addr) is not None:
            return 0
        return real(self, addr, length, advice)
    monkeypatch.setattr(mmviz.World, "madvise", broken)
    shrunk, res = ddmin(server, ops)
    assert res is not None
    assert shrunk == [ops[0], ops[2]], shrunk


def test_model_matches_kernel_on_random_sequences(server):
    started = time.monotonic()
    total_ops = 0
    forks = 0
    for seed in range(N_SEQUENCES):
        ops, failure = run_sequence(server, seed)
        total_ops += len(ops)
        forks += sum(op[0] == "fork" for op in ops)
        if failure is None:
            continue
        shrunk, res = ddmin(server, ops)
        idx, msg = res if res is not None else failure
        pytest.fail(f"seed {seed}: the model disagrees with the kernel at call {idx + 1} of "
                    f"this {len(shrunk)}-call sequence (shrunk from {len(ops)}):\n\n"
                    f"{program_source(shrunk, server.base)}\n\n{msg}", pytrace=False)
    assert total_ops >= N_SEQUENCES * MIN_OPS and forks > N_SEQUENCES // 10
    print(f"{N_SEQUENCES} sequences, {total_ops} calls ({forks} forks), all agree with the "
          f"kernel ({time.monotonic() - started:.1f} s)")
