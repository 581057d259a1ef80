"""A /proc/PID/maps text made readable on a slide: an excerpt, compact lines, a summary.

Lines are read with the model's one maps parser (`mmviz.model.proc_maps`); a line that is
not a maps line is left out.
"""

from __future__ import annotations

from ..model.errors import InputError
from ..model.proc_maps import maps_lines, parse_maps_line

KERNEL_AREAS = ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]", "[uprobes]")


def _entries(text):
    """(line, parsed dict) of every maps line of the text."""
    for line in maps_lines(text):
        if not line.strip():
            continue
        try:
            yield line, parse_maps_line(line)
        except InputError:
            continue


def maps_excerpt(text: str, keep) -> str:
    """The lines of a maps text whose name column passes `keep(name)` (for a readable zoom)."""
    return "\n".join(line for line, e in _entries(text) if keep(e["name"].strip())) + "\n"


def _short(name, width):
    if len(name) > width and "/" in name:
        tail = name.rsplit("/", 2)
        return ("…/" + "/".join(tail[-2:]) if len("/".join(tail[-2:])) < width
                else "…/" + tail[-1])
    return name


def compact_maps(text: str, limit=None, name_width: int = 34) -> str:
    """Maps lines with single spaces and long paths shortened ('…/bin/python3.11'), so that
    they fit a slide; `limit` keeps only the first lines."""
    out = []
    for _, e in list(_entries(text))[:limit]:
        name = _short(e["name"].strip(), name_width)
        head = (f"{e['start']:08x}-{e['end']:08x} {e['perms']} {e['offset']:08x} "
                f"{e['dev'][0]:02x}:{e['dev'][1]:02x} {e['inode']}")
        out.append(head + (f" {name}" if name else ""))
    return "\n".join(out)


def summarize_maps(text: str) -> str:
    """How many VMAs of each kind a maps text has (file-backed, anonymous, special)."""
    kinds = {"file-backed": 0, "anonymous": 0, "[heap]/[stack]": 0, "kernel-provided": 0}
    for _, e in _entries(text):
        name = e["name"].strip()
        if name in ("[heap]", "[stack]"):
            kinds["[heap]/[stack]"] += 1
        elif name in KERNEL_AREAS:
            kinds["kernel-provided"] += 1
        elif e["inode"] != 0:
            kinds["file-backed"] += 1
        else:
            kinds["anonymous"] += 1
    total = sum(kinds.values())
    return f"{total} VMAs: " + ", ".join(f"{n} {k}" for k, n in kinds.items())
