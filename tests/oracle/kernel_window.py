"""The differential tests' window onto the real kernel: `mmviz.live.KernelWindow`.

One implementation drives the real kernel through ctypes, in `mmviz/live.py` (standard
library only; the lessons' `LiveWindow` is a face of it); this module keeps the names the
tests import. Maps lines are parsed by the model's one parser
(`mmviz.model.proc_maps.parse_maps_line`: `dev` is a (major, minor) pair of ints).

Test-only extensions of the window (new system calls for the differential test) go in the
`KernelWindow` subclass below, or, better, in `mmviz.live.KernelWindow` itself.
"""

from __future__ import annotations

from mmviz.live import (_MAP_FAILED, _RELOCATE_STEP, _RELOCATE_TRIES, _U64,  # noqa: F401
                        MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE,
                        MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, PAGE_SIZE, PROT_NONE,
                        PROT_READ, PROT_WRITE, TEST_WINDOW_BASE, _page_align, _read_maps,
                        _to_c_int, _to_c_long, load_libc)
from mmviz.live import KernelWindow as _LiveKernelWindow
from mmviz.model.proc_maps import parse_maps_line  # noqa: F401


class KernelWindow(_LiveKernelWindow):
    """`mmviz.live.KernelWindow` (see its module docstring for the layout and the rules)."""
