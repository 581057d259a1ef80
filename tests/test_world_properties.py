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
