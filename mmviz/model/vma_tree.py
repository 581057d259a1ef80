"""A sorted interval map of VMAs: the model's stand-in for the maple tree `mm_mt` (lib/maple_tree.c).

Entries are kept sorted by vm_start in a Python list and found by binary search, so a
lookup costs O(log n) and an insert or erase one memmove. The kernel's tree can also
hold NULL ranges and stale (detached) entries while an operation is in flight; here a
detached VMA simply stays in the list until its range is overwritten or cleared.
Every VMA stored, overwritten, cleared or erased is passed to `journal` (the mm's change
journal).
"""

from bisect import bisect_left, bisect_right
from operator import attrgetter

from .errors import ModelBug

_start = attrgetter("vm_start")


def _no_journal(vma):
    pass


class VmaTree:
    __slots__ = ("_vmas", "journal")

    def __init__(self, journal=_no_journal):
        self._vmas = []
        self.journal = journal

    def __len__(self):
        return len(self._vmas)

    def __iter__(self):
        return iter(list(self._vmas))

    def _index_of(self, vma) -> int:
        vmas = self._vmas
        i = bisect_left(vmas, vma.vm_start, key=_start)
        while i < len(vmas) and vmas[i].vm_start == vma.vm_start:
            if vmas[i] is vma:
                return i
            i += 1
        raise ModelBug(f"{vma!r} is not in the VMA tree")

    def contains(self, vma) -> bool:
        try:
            self._index_of(vma)
        except ModelBug:
            return False
        return True

    def find(self, addr):
        """The VMA containing addr, or None (find_vma_intersection of one byte)."""
        vmas = self._vmas
        i = bisect_right(vmas, addr, key=_start) - 1
        if i >= 0 and vmas[i].vm_end > addr:
            return vmas[i]
        return None

    def first_index_ending_after(self, addr) -> int:
        vmas = self._vmas
        i = bisect_right(vmas, addr, key=_start) - 1
        if i >= 0 and vmas[i].vm_end > addr:
            return i
        return i + 1

    def find_intersection(self, start, end):
        """The first VMA overlapping [start, end), or None (vma_find / find_vma_intersection)."""
        vmas = self._vmas
        i = self.first_index_ending_after(start)
        if i < len(vmas) and vmas[i].vm_start < end:
            return vmas[i]
        return None

    def range(self, start, end):
        """Every VMA overlapping [start, end), in address order (a snapshot list)."""
        vmas = self._vmas
        i = self.first_index_ending_after(start)
        out = []
        while i < len(vmas) and vmas[i].vm_start < end:
            out.append(vmas[i])
            i += 1
        return out

    def prev_before(self, addr):
        """The last VMA that starts below addr (vma_prev from a gap at addr), or None."""
        i = bisect_left(self._vmas, addr, key=_start) - 1
        return self._vmas[i] if i >= 0 else None

    def next_from(self, addr):
        """The first VMA that starts at or above addr, or None."""
        i = bisect_left(self._vmas, addr, key=_start)
        return self._vmas[i] if i < len(self._vmas) else None

    def vma_prev(self, vma):
        i = self._index_of(vma)
        return self._vmas[i - 1] if i > 0 else None

    def vma_next(self, vma):
        i = self._index_of(vma)
        return self._vmas[i + 1] if i + 1 < len(self._vmas) else None

    def store(self, vma):
        """Store vma over its range, dropping whatever entries it overwrites (vma_iter_store_*)."""
        self.clear(vma.vm_start, vma.vm_end)
        vmas = self._vmas
        vmas.insert(bisect_left(vmas, vma.vm_start, key=_start), vma)
        self.journal(vma)

    def clear(self, start, end):
        """Store NULL over [start, end): entries must lie wholly inside the range."""
        vmas = self._vmas
        i = self.first_index_ending_after(start)
        j = i
        while j < len(vmas) and vmas[j].vm_start < end:
            if vmas[j].vm_start < start or vmas[j].vm_end > end:
                raise ModelBug(f"clearing [{start:#x},{end:#x}) would cut {vmas[j]!r}")
            j += 1
        for k in range(i, j):
            self.journal(vmas[k])
        del vmas[i:j]

    def erase(self, vma):
        del self._vmas[self._index_of(vma)]
        self.journal(vma)

    def gaps(self, low, high):
        """Free [start, end) stretches between low and high, highest first (for top-down search)."""
        vmas = self._vmas
        i = bisect_left(vmas, high, key=_start) - 1
        top = high
        while i >= 0 and top > low:
            v = vmas[i]
            if v.vm_end < top:
                yield max(v.vm_end, low), top
            top = min(top, v.vm_start)
            i -= 1
        if top > low:
            yield low, top
