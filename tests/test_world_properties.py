"""Property test: random system-call sequences on a World against a page-level reference.

The reference knows nothing about VMAs, merging or splitting.  It keeps, for every page
of a small window, what a program could observe about it:

    page -> (prot, shared?, backing identity, file page, may-write?)

where the backing identity is "anon" for private anonymous memory, one token per
MAP_SHARED|MAP_ANONYMOUS call (each gets its own shmem file), or the token of the open
file (`struct file`) a file mapping was made through.  From that it decides the return
value of every call (mmap, munmap, mprotect, touch, read, ftruncate, dup, reopen) and
the page-by-page picture the World must show.  After every step the World runs
`validate_mm` and its VMAs, flattened to pages, must equal the reference.
"""

from __future__ import annotations

import errno as E

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, initialize,
                                 invariant, rule)

import mmviz
from mmviz import (MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED,
                   O_RDONLY, O_RDWR, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE)
from mmviz.model.vm_flags import VmFlags

P = mmviz.PAGE_SIZE
BASE = 0x1000_0000_0000
PAGES = 16
PROTS = st.sampled_from([PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE,
                         PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC])
START = st.integers(0, PAGES - 1)
NPAGES = st.integers(1, 6)


class Handle:
    """An fd as both sides know it: the World's number and the reference's open file."""

    def __init__(self, fd, file_token, inode_token, writable):
        self.fd, self.file_token, self.inode, self.writable = fd, file_token, inode_token, writable

    def __repr__(self):
        return f"fd{self.fd}"


class WorldVsPages(RuleBasedStateMachine):
    handles = Bundle("handles")

    def __init__(self):
        super().__init__()
        self.w = mmviz.World()
        self.pages: dict[int, tuple] = {}
        self.sizes: dict[int, int] = {}          # inode token -> size in bytes
        self.tokens = 0
        self.model_to_ref: dict[int, object] = {}
        self.ref_to_model: dict[object, int] = {}

    def _token(self):
        self.tokens += 1
        return self.tokens

    @staticmethod
    def _span(start, npages):
        return range(start, min(start + npages, PAGES))

    # ----------------------------------------------------------------- files

    @initialize(target=handles, size=st.integers(0, 8))
    def first_memfd(self, size):
        return self._memfd(size)

    @rule(target=handles, size=st.integers(0, 8))
    def memfd(self, size):
        return self._memfd(size)

    def _memfd(self, size):
        fd = self.w.memfd_create("m")
        assert fd >= 0
        assert self.w.ftruncate(fd, size * P) == 0
        h = Handle(fd, self._token(), self._token(), True)
        self.sizes[h.inode] = size * P
        return h

    @rule(target=handles, h=handles)
    def dup(self, h):
        fd = self.w.dup(h.fd)
        assert fd >= 0 and fd != h.fd
        return Handle(fd, h.file_token, h.inode, h.writable)

    @rule(target=handles, h=handles, writable=st.booleans())
    def reopen(self, h, writable):
        fd = self.w.reopen(h.fd, O_RDWR if writable else O_RDONLY)
        assert fd >= 0
        return Handle(fd, self._token(), h.inode, writable)

    @rule(h=consumes(handles))
    def close(self, h):
        assert self.w.close(h.fd) == 0      # mappings of the file stay

    @rule(h=handles, size=st.integers(0, 10), extra=st.sampled_from([0, 0, 1, 100]))
    def ftruncate(self, h, size, extra):
        ret = self.w.ftruncate(h.fd, size * P + extra)
        if not h.writable:
            assert ret == -E.EINVAL
            return
        assert ret == 0
        self.sizes[h.inode] = size * P + extra

    # ----------------------------------------------------------------- mappings

    def _noreplace_conflict(self, span):
        return any(p in self.pages for p in span)

    @rule(start=START, npages=NPAGES, prot=PROTS, shared=st.booleans(), noreplace=st.booleans())
    def mmap_anon(self, start, npages, prot, shared, noreplace):
        span = self._span(start, npages)
        flags = (MAP_SHARED if shared else MAP_PRIVATE) | MAP_ANONYMOUS
        flags |= MAP_FIXED_NOREPLACE if noreplace else MAP_FIXED
        ret = self.w.mmap(BASE + start * P, len(span) * P, prot, flags)
        if noreplace and self._noreplace_conflict(span):
            assert ret == -E.EEXIST
            return
        assert ret == BASE + start * P
        backing = ("shm", self._token()) if shared else "anon"
        for i, p in enumerate(span):
            self.pages[p] = (prot, shared, backing, i if shared else None, True)

    @rule(h=handles, start=START, npages=NPAGES, prot=PROTS, shared=st.booleans(),
          offset=st.integers(0, 8), noreplace=st.booleans())
    def mmap_file(self, h, start, npages, prot, shared, offset, noreplace):
        span = self._span(start, npages)
        flags = (MAP_SHARED if shared else MAP_PRIVATE)
        flags |= MAP_FIXED_NOREPLACE if noreplace else MAP_FIXED
        ret = self.w.mmap(BASE + start * P, len(span) * P, prot, flags, h.fd, offset * P)
        if noreplace and self._noreplace_conflict(span):
            assert ret == -E.EEXIST
            return
        if shared and prot & PROT_WRITE and not h.writable:
            assert ret == -E.EACCES
            return
        assert ret == BASE + start * P
        maywrite = h.writable or not shared
        for i, p in enumerate(span):
            self.pages[p] = (prot, shared, ("file", h.file_token, h.inode), offset + i, maywrite)

    @rule(start=START, npages=NPAGES)
    def munmap(self, start, npages):
        span = self._span(start, npages)
        assert self.w.munmap(BASE + start * P, len(span) * P) == 0
        for p in span:
            self.pages.pop(p, None)

    @rule(start=START, npages=NPAGES, prot=PROTS)
    def mprotect(self, start, npages, prot):
        span = self._span(start, npages)
        # The kernel applies the change VMA by VMA and stops at the first hole (-ENOMEM) or
        # the first VMA that may not get the access (-EACCES); earlier pages stay changed.
        expected = 0
        for p in span:
            page = self.pages.get(p)
            if page is None:
                expected = -E.ENOMEM
                break
            if prot & PROT_WRITE and not page[4]:
                expected = -E.EACCES
                break
            self.pages[p] = (prot,) + page[1:]
        assert self.w.mprotect(BASE + start * P, len(span) * P, prot) == expected

    def _accessible(self, p, write):
        page = self.pages.get(p)
        if page is None:
            return False
        prot, _, backing, file_page, _ = page
        if write and not prot & PROT_WRITE:
            return False
        if not write and not prot & (PROT_READ | PROT_WRITE | PROT_EXEC):
            return False
        if backing == "anon" or backing[0] == "shm":
            return True
        size = self.sizes[backing[2]]
        return file_page < (size + P - 1) // P      # past EOF is SIGBUS

    @rule(page=st.integers(0, PAGES - 1), write=st.booleans())
    def access(self, page, write):
        addr = BASE + page * P + 17
        ret = self.w.touch(addr) if write else self.w.read(addr)
        assert ret == (0 if self._accessible(page, write) else -E.EFAULT)

    # ----------------------------------------------------------------- checks

    def _bind(self, model_file, ref_token):
        """Model struct files and reference tokens must correspond one to one."""
        mid = model_file.id
        bound = self.model_to_ref.setdefault(mid, ref_token)
        back = self.ref_to_model.setdefault(ref_token, mid)
        assert bound == ref_token and back == mid, (
            f"{model_file.label} stands for {bound} and {ref_token}")

    @invariant()
    def world_is_valid_and_matches_the_pages(self):
        self.w.validate()
        for vma in self.w.vmas(BASE, BASE + PAGES * P):
            assert BASE <= vma.vm_start and vma.vm_end <= BASE + PAGES * P
            f = vma.vm_flags
            for addr in range(vma.vm_start, vma.vm_end, P):
                p = (addr - BASE) // P
                idx = (addr - vma.vm_start) // P
                prot = f & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC)
                shared = bool(f & VmFlags.VM_MAYSHARE)
                ref = self.pages.get(p)
                assert ref is not None, f"page {p} is mapped in the World only"
                rprot, rshared, backing, file_page, maywrite = ref
                assert (prot, shared) == (rprot, rshared), (p, vma)
                assert bool(f & VmFlags.VM_MAYWRITE) == maywrite, (p, vma)
                if backing == "anon":
                    assert vma.vm_file is None, (p, vma)
                    continue
                assert vma.vm_file is not None, (p, vma)
                self._bind(vma.vm_file, backing[1])
                assert vma.vm_pgoff + idx == file_page, (p, vma)
        for p in self.pages:
            assert self.w.mm.mm_mt.find(BASE + p * P) is not None, f"page {p} missing"


TestWorldVsPages = WorldVsPages.TestCase
TestWorldVsPages.settings = settings(max_examples=200, stateful_step_count=30, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------
# Processes: fork, mremap, madvise, mlock and page contents, with every invariant after
# every step (validate_mm: the anon_vma chains and counters, locked_vm, the pages' rmap;
# and the commit charge), plus properties of the contents a program reads.

from hypothesis import assume  # noqa: E402

from mmviz import (MADV_DONTNEED, MAP_LOCKED, MREMAP_DONTUNMAP, MREMAP_FIXED,  # noqa: E402
                   MREMAP_MAYMOVE)
from mmviz.model.validate import check_commit_charge  # noqa: E402

ADVICE = st.sampled_from([0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 24,
                          5, 12345])
PROTS_MOSTLY_RW = st.sampled_from([PROT_READ | PROT_WRITE] * 4 + [PROT_READ, PROT_NONE, PROT_WRITE])
REMAP_FLAGS = st.sampled_from([0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED,
                               MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
                               MREMAP_MAYMOVE | MREMAP_DONTUNMAP, MREMAP_FIXED, 8])


class Processes(RuleBasedStateMachine):
    """Random calls in a parent and its children; the invariants after every step."""

    def __init__(self):
        super().__init__()
        self.w = mmviz.World(rlimit_memlock_pages=12)
        self.procs = [self.w]
        self.fd = self.w.memfd_create("m")
        assert self.w.ftruncate(self.fd, 8 * P) == 0

    def _proc(self, i):
        return self.procs[i % len(self.procs)]

    def _contents(self, proc):
        """Every readable page's byte at offset 0x11 (a load is a read fault: no change)."""
        out = {}
        for v in proc.vmas(BASE, BASE + 2 * PAGES * P):
            if v.vm_flags & VmFlags.VM_READ:
                for a in range(v.vm_start, v.vm_end, P):
                    out[a] = proc.load(a + 0x11)
        return out

    @rule(i=st.integers(0, 3), start=START, npages=NPAGES, prot=PROTS_MOSTLY_RW,
          shared=st.booleans(), file=st.booleans(), locked=st.booleans())
    def mmap(self, i, start, npages, prot, shared, file, locked):
        p = self._proc(i)
        flags = (MAP_SHARED if shared else MAP_PRIVATE) | MAP_FIXED
        flags |= MAP_LOCKED if locked else 0
        if file and self.fd in p.fds:
            p.mmap(BASE + start * P, npages * P, prot, flags, self.fd, start % 4 * P)
        else:
            p.mmap(BASE + start * P, npages * P, prot, flags | MAP_ANONYMOUS)

    @rule(i=st.integers(0, 3), start=START, npages=NPAGES)
    def munmap(self, i, start, npages):
        assert self._proc(i).munmap(BASE + start * P, npages * P) in (0, -E.EINVAL)

    @rule(i=st.integers(0, 3), start=START, npages=NPAGES, prot=PROTS)
    def mprotect(self, i, start, npages, prot):
        self._proc(i).mprotect(BASE + start * P, npages * P, prot)

    def _writable_pages(self, p):
        return [a for v in p.vmas(BASE, BASE + 2 * PAGES * P) if v.vm_flags & VmFlags.VM_WRITE
                for a in range(v.vm_start, v.vm_end, P)]

    @rule(i=st.integers(0, 3), data=st.data(), value=st.integers(1, 255))
    def touch(self, i, data, value):
        """A write is seen by the writer and by no other process's private memory."""
        p = self._proc(i)
        pages = self._writable_pages(p) or [BASE]
        addr = data.draw(st.sampled_from(pages)) + 0x11
        others = [(q, self._contents(q)) for q in self.procs if q is not p]
        if p.touch(addr, value) == 0:
            assert p.load(addr) == value
            vma = p.mm.mm_mt.find(addr)
            if not vma.vm_flags & VmFlags.VM_SHARED:
                for q, before in others:
                    assert self._contents(q) == before

    @rule(i=st.integers(0, 3), data=st.data(), newpages=NPAGES, flags=REMAP_FLAGS,
          dest=st.integers(0, 2 * PAGES - 1))
    def mremap(self, i, data, newpages, flags, dest):
        """A move carries the contents along."""
        p = self._proc(i)
        vmas = p.vmas(BASE, BASE + 2 * PAGES * P)
        if vmas:
            v = data.draw(st.sampled_from(vmas))
            addr = data.draw(st.sampled_from(range(v.vm_start, v.vm_end, P)))
            npages = data.draw(st.integers(1, (v.vm_end - addr) // P))
        else:
            addr, npages = BASE, 1
        if flags & MREMAP_DONTUNMAP:
            newpages = npages
        before = self._contents(p)
        ret = p.mremap(addr, npages * P, newpages * P, flags, BASE + dest * P)
        if ret < 0 or ret == addr:
            return
        for k in range(min(npages, newpages)):
            if addr + k * P in before and p.mm.mm_mt.find(ret + k * P).vm_flags & VmFlags.VM_READ:
                assert p.load(ret + k * P + 0x11) == before[addr + k * P]

    @rule(i=st.integers(0, 3), start=START, npages=NPAGES, advice=ADVICE)
    def madvise(self, i, start, npages, advice):
        p = self._proc(i)
        ret = p.madvise(BASE + start * P, npages * P, advice)
        if ret == 0 and advice == MADV_DONTNEED:
            for v in p.vmas(BASE + start * P, BASE + (start + npages) * P):
                if v.vm_file is None and v.vm_flags & VmFlags.VM_READ:
                    a = max(v.vm_start, BASE + start * P)
                    assert p.load(a) == 0

    @rule(i=st.integers(0, 3), start=START, npages=NPAGES, how=st.sampled_from(
        ["mlock", "onfault", "munlock"]))
    def mlock(self, i, start, npages, how):
        p = self._proc(i)
        if how == "mlock":
            p.mlock(BASE + start * P, npages * P)
        elif how == "onfault":
            p.mlock2(BASE + start * P, npages * P, 1)
        else:
            p.munlock(BASE + start * P, npages * P)

    @rule(i=st.integers(0, 3))
    def fork(self, i):
        """The child starts with the parent's contents, except DONTCOPY holes and
        WIPEONFORK zeros, and without VM_LOCKED."""
        assume(len(self.procs) < 4)
        p = self._proc(i)
        before = self._contents(p)
        c = p.fork()
        self.procs.append(c)
        after = self._contents(c)
        for v in p.vmas(BASE, BASE + 2 * PAGES * P):
            for a in range(v.vm_start, v.vm_end, P):
                if v.vm_flags & VmFlags.VM_DONTCOPY:
                    assert c.mm.mm_mt.find(a) is None
                elif a in before:
                    wiped = v.vm_flags & VmFlags.VM_WIPEONFORK
                    assert after[a] == (0 if wiped else before[a])
        assert c.mm.locked_vm == 0

    @rule(i=st.integers(1, 3))
    def exit(self, i):
        assume(len(self.procs) > 1)
        c = self.procs.pop(1 + i % (len(self.procs) - 1))
        c.exit()

    @rule(i=st.integers(0, 3), pages=st.integers(-2, 6))
    def brk(self, i, pages):
        p = self._proc(i)
        cur = p.brk(0)
        assert p.brk(cur + pages * P) in (cur, cur + pages * P)

    @invariant()
    def every_process_is_valid(self):
        for p in self.procs:
            p.validate()
        check_commit_charge(self.w)


TestProcesses = Processes.TestCase
TestProcesses.settings = settings(max_examples=120, stateful_step_count=30, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow])
