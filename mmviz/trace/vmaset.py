"""An immutable, sorted set of VMA views that shares structure with the set it was made from.

A trace keeps one set per event. A real process has tens of thousands of VMAs and one
system call changes a handful, so a new set copies only the chunks that hold changed
views (and the tuple of chunk references): recording costs what changed, not the size of
the address space. Views are ordered by (start, id); `range(start, end)` finds the views
overlapping an address range by bisection.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate, chain

CHUNK = 64


def _key(v):
    return (v.start, v.id)


class VmaSet:
    """A sequence of VmaView sorted by (start, id); `with_changes` returns a new set."""

    __slots__ = ("_chunks", "_firsts", "_offsets", "_by_id")

    def __init__(self, views=()):
        views = sorted(views, key=_key)
        self._set_chunks(tuple(tuple(views[i:i + CHUNK]) for i in range(0, len(views), CHUNK)))

    def _set_chunks(self, chunks):
        self._chunks = chunks
        self._firsts = [_key(c[0]) for c in chunks]
        self._offsets = [0, *accumulate(len(c) for c in chunks)]
        self._by_id = None

    @classmethod
    def _from_chunks(cls, chunks):
        s = cls.__new__(cls)
        s._set_chunks(chunks)
        return s

    # --- sequence ------------------------------------------------------------------------------
    def __len__(self):
        return self._offsets[-1]

    def __iter__(self):
        return chain.from_iterable(self._chunks)

    def __bool__(self):
        return bool(self._chunks)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self)[i]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("VmaSet index out of range")
        c = bisect_right(self._offsets, i) - 1
        return self._chunks[c][i - self._offsets[c]]

    def __eq__(self, other):
        if isinstance(other, VmaSet):
            return self._chunks is other._chunks or (
                len(self) == len(other) and all(a == b for a, b in zip(self, other)))
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self):
        return f"VmaSet({len(self)} VMAs)"

    @property
    def chunks(self) -> tuple:
        """The tuples of views the set is made of, shared with the sets it was made from: a
        reader that caches per chunk (pictures of a 30,000-VMA trace) redoes only what changed."""
        return self._chunks

    # --- queries -------------------------------------------------------------------------------
    def get(self, ident):
        """The view with this VMA id, or None (an index is kept only for small sets: a trace
        holds one set per event, and most are never asked)."""
        if self._by_id is not None:
            return self._by_id.get(ident)
        if len(self) <= 2048:
            self._by_id = {v.id: v for v in self}
            return self._by_id.get(ident)
        return next((v for v in self if v.id == ident), None)

    def range(self, start, end) -> list:
        """The views overlapping [start, end), in order."""
        out = []
        c = max(bisect_right(self._firsts, (start, -1)) - 1, 0)
        # A view that starts before `start` may still reach into the range: look back while
        # an earlier chunk holds one (detached in-flight VMAs can overlap attached ones).
        while c > 0 and any(v.end > start for v in self._chunks[c - 1]):
            c -= 1
        for chunk in self._chunks[c:]:
            if chunk[0].start >= end:
                break
            out.extend(v for v in chunk if v.start < end and v.end > start)
        return out

    # --- building the next set -----------------------------------------------------------------
    def with_changes(self, removed=(), added=()) -> "VmaSet":
        """A new set without the views in `removed` and with those in `added`."""
        removed = list(removed)
        added = list(added)
        if not removed and not added:
            return self
        chunks = list(self._chunks) or [()]
        touched = {}

        def chunk_list(c):
            lst = touched.get(c)
            if lst is None:
                lst = touched[c] = list(chunks[c])
            return lst
        for v in removed:
            chunk_list(self._chunk_of(_key(v))).remove(v)
        for v in added:
            chunk_list(self._chunk_of(_key(v))).append(v)
        for c, lst in touched.items():
            lst.sort(key=_key)
            chunks[c] = lst
        out = []
        for chunk in chunks:
            if not chunk:
                continue
            if isinstance(chunk, list):
                out.extend(tuple(chunk[i:i + CHUNK]) for i in range(0, len(chunk), CHUNK))
            else:
                out.append(chunk)
        return VmaSet._from_chunks(tuple(out))

    def _chunk_of(self, key) -> int:
        """The chunk a view with this key belongs in (the last chunk starting at or before it)."""
        return max(bisect_right(self._firsts, key) - 1, 0) if self._firsts else 0
