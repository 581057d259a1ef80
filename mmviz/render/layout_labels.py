"""The words inside the layout picture's boxes: as much as fits, most important first.

Pure string functions (no matplotlib): a wide box gets the id, range, file and page offset,
size and state; a narrow one its name, permissions and size; a run of boxes of one file
(a library's r--p, r-xp, r--p, rw-p) is named once.
"""

from __future__ import annotations

import os

from ._units import human_bytes

# Flags nearly every VMA has (or that perms already show): the label names only the others,
# e.g. VM_HUGEPAGE that stopped a merge, or VM_IO VM_PFNMAP of a device mapping.
ROUTINE_FLAGS = frozenset({"VM_READ", "VM_WRITE", "VM_EXEC", "VM_SHARED", "VM_MAYREAD",
                           "VM_MAYWRITE", "VM_MAYEXEC", "VM_MAYSHARE", "VM_SOFTDIRTY",
                           "VM_ACCOUNT"})


def short_file(label: str) -> str:
    return os.path.basename(label.rstrip("/")) or label


def fit(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    if chars <= 1:
        return ""
    return text[:chars - 1] + "…"


def where(v, names) -> str:
    name = names.get(v.id) if names else None
    if v.file:
        return short_file(name or v.file)
    return name or "anonymous"


def _states(v) -> list:
    return [s for s, on in (("write-locked", v.write_locked), ("hidden", v.hidden),
                            ("detached", v.detached)) if on]


def _where_full(v, names, place) -> str:
    if v.file:
        return f"{place} @pgoff {v.pgoff:#x}"
    if v.anon_vma is not None and not (names and names.get(v.id)):
        return f"anonymous, anon_vma#{v.anon_vma}"
    return place


def box_label(v, wpx, hpx, names, char_px, line_px):
    """(label, state words) inside one VMA's box of wpx x hpx pixels: the label names the
    VMA (it stays the same while the VMA does), the state words say what is happening to it
    now (write-locked, hidden, detached) and get a line of their own. (None, None) if
    nothing fits; the state words come first when only one line fits."""
    chars = int((wpx - 6) / char_px)
    nlines = int((hpx - 4) / line_px)
    if chars < 3 or nlines < 1:
        return None, None
    states = ", ".join(_states(v))
    place = where(v, names)
    full = _where_full(v, names, place)
    rng = f"{v.start:#x}–{v.end:#x}"
    size = human_bytes(v.end - v.start)
    notable = " ".join(f for f in v.flags if f not in ROUTINE_FLAGS)
    if chars >= len(rng):
        lines = [f"vma#{v.id} {v.perms}", rng]
        if len(full) + len(size) + 3 <= chars:
            lines.append(f"{full} · {size}")
        else:
            lines += [full, size]
        if notable:
            lines.append(notable)
    else:                       # narrow: what it is first, then where and how big
        lines = [place, v.perms, size, f"vma#{v.id}"]
    keep = lines[:nlines - (1 if states else 0)]
    label = "\n".join(t for t in (fit(t, chars) for t in keep) if t) or None
    return label, (fit(states, chars) or None) if states else None


def file_runs(row_boxes):
    """Runs (i, j) of >= 2 consecutive boxes of one row that map the same file."""
    runs, i = [], 0
    while i < len(row_boxes):
        j = i
        f = row_boxes[i][0].file
        while f and j + 1 < len(row_boxes) and row_boxes[j + 1][0].file == f:
            j += 1
        if j > i:
            runs.append((i, j))
        i = j + 1
    return runs
