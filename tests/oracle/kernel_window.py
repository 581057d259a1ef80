"""The differential tests' window onto the real kernel: `mmviz.live.KernelWindow`.

One implementation drives the real kernel through ctypes, in `mmviz/live.py` (standard
library only; the lessons' `LiveWindow` is a face of it); this module keeps the names the
tests import. Maps lines are parsed by the model's one parser
(`mmviz.model.proc_maps.parse_maps_line`: `dev` is a (major, minor) pair of ints).

Test-only extensions of the window (new system calls for the differential test) go in the
`KernelWindow` subclass below, or, better, in `mmviz.live.KernelWindow` itself.
"""

from __future__ import annotations

from mmviz.live import KernelWindow as _LiveKernelWindow
from mmviz.model.proc_maps import parse_maps_line  # noqa: F401


class KernelWindow(_LiveKernelWindow):
    """`mmviz.live.KernelWindow` (see its module docstring for the layout and the rules)."""
