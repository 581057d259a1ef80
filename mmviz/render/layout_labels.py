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


def short_forms(label: str) -> list:
    """A file's name, longest first: the path as every view writes it ('/mnt/hidden#1'),
    its last part ('libc.so.6#9'), then without the open-file number and library suffixes
    ('libc', '_json'). A label uses the first that fits, never a cut-off one."""
    out = [label]
    base = short_file(label)
    for cand in (base, base.split("#")[0], _stem(base.split("#")[0])):
        if cand and cand not in out:
            out.append(cand)
    return out


def _stem(name: str) -> str:
    """'libpython3.11.so.1.0' -> 'libpython3.11', '_json.cpython-311-x86_64-linux-gnu.so' ->
    '_json'."""
    for cut in (".cpython-", ".so", ".abi3"):
        if cut in name:
            name = name.split(cut)[0]
    return name


def fit(text: str, chars: int) -> str:
    """The text if it fits in `chars` characters, else nothing: a picture never shows a
    word cut off (the text alternative names everything)."""
    return text if len(text) <= chars else ""


def fit_name(label: str, chars: int) -> str:
    """The longest short form of a name that fits (see short_forms), or ''."""
    return next((f for f in short_forms(label) if len(f) <= chars), "")


def where(v, names) -> str:
    name = names.get(v.id) if names else None
    if v.file:
        return name or v.file
    return name or "anonymous"


def _states(v) -> list:
    return [s for s, on in (("write-locked", v.write_locked), ("hidden", v.hidden),
                            ("detached", v.detached)) if on]


def _short_states(v) -> list:
    return [s for s, on in (("locked", v.write_locked), ("hidden", v.hidden),
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
    forms = short_forms(where(v, names)) if v.file else [where(v, names)]
    place = next((f for f in forms if len(_where_full(v, names, f)) <= chars),
                 fit_name(where(v, names), chars) or forms[-1])
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
    keep = [t for t in (fit(t, chars) for t in lines) if t][:nlines - (1 if states else 0)]
    label = "\n".join(keep) or None
    if states and not fit(states, chars):
        states = ", ".join(_short_states(v))
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
