"""`mmviz maps [PID | FILE] -o FILE.svg`: draw a real /proc/PID/maps with the layout renderer.

The maps text is loaded into a model World (so the picture is exactly what the model would
hold), snapshotted, and drawn like any scenario; the names the kernel prints for anonymous
areas ([heap], [stack], [vdso] ...) label their boxes.
"""

from __future__ import annotations

import os
import sys

from ..model.errors import InputError

# A maps text larger than this is refused, not cut: a cut text ends in half a line that
# parses with a wrong inode or name. Real ones are far smaller (a process at the default
# vm.max_map_count of 65530 VMAs prints about 10 MiB), and every line becomes a model VMA
# and a box in the picture, so reading further would only spend memory on a useless drawing.
MAX_MAPS_BYTES = 64 << 20


def read_maps_source(source) -> tuple:
    """(text, description) of the maps to draw: None = this process, digits = a pid, else a file."""
    if source is None:
        path, what = "/proc/self/maps", f"this process (pid {os.getpid()})"
    elif source.isdigit():
        path, what = f"/proc/{int(source)}/maps", f"pid {int(source)}"
        if not os.path.exists(f"/proc/{int(source)}"):
            raise InputError(f"no process with pid {int(source)} (/proc/{int(source)} does not exist)")
    else:
        path, what = source, source
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file (give a pid or a saved /proc/PID/maps file)")
        if os.path.isdir(path):
            raise InputError(f"{path} is a directory, not a maps file")
    try:
        with open(path, "rb") as f:       # bytes: no newline translation, no partial character
            data = f.read(MAX_MAPS_BYTES + 1)
    except OSError as e:
        raise OSError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > MAX_MAPS_BYTES:
        raise InputError(f"{path} is larger than {MAX_MAPS_BYTES >> 20} MiB, more than any real "
                         "/proc/PID/maps (65530 VMAs print about 10 MiB): refusing to read it")
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        raise InputError(f"{path} is empty: nothing to draw "
                         "(a kernel thread has no address space; a maps file needs lines)")
    return text, what


def maps_snapshot(text):
    """(snapshot, names, left_out) for a maps text. names maps VMA ids to the names the
    kernel printed; left_out counts areas above TASK_SIZE (x86-64's [vsyscall] page is a
    "gate area", not a VMA of the process's mm) that the picture leaves out."""
    from dataclasses import replace

    from ..model.proc_maps import parse_maps
    from ..model.world import World
    from ..trace import VmaSet, take_snapshot

    entries = parse_maps(text)
    world = World.from_maps(text)
    snap = take_snapshot(world)
    task_size = world.mm.task_size
    user = tuple(v for v in snap.vmas if v.end <= task_size)
    left_out = len(snap.vmas) - len(user)
    snap = replace(snap, vmas=VmaSet(user))
    by_start = {e["start"]: e["name"] for e in entries}
    names = {v.id: by_start[v.start] for v in snap.vmas if by_start.get(v.start)}
    return snap, names, left_out


def draw_maps(args) -> int:
    from ..render.layout import layout_png, layout_svg

    text, what = read_maps_source(args.source)
    snap, names, left_out = maps_snapshot(text)
    if not snap.vmas:
        raise InputError(f"the maps of {what} hold no user-space VMA to draw")
    from .export import write_output

    out = args.output
    title = f"/proc/{'self' if args.source is None else args.source}/maps — {what}"
    if left_out:
        title += f" ({left_out} area{'s' if left_out != 1 else ''} above TASK_SIZE left out)"
    if out.lower().endswith(".png"):
        write_output(out, layout_png(snap, title=title, names=names))
    else:
        write_output(out, layout_svg(snap, title=title, names=names))
    sys.stdout.write(f"mmviz: drew {len(snap.vmas)} VMAs of {what} to {out}\n")
    return 0
