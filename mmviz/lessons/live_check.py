"""The model beside this machine's kernel, for a lesson cell (see mmviz.live)."""

from __future__ import annotations


def live_compare(script, pages: int = 32, kernel: str = "v4"):
    """Run `script(system, base)` on a fresh model World and on the real kernel (Linux only);
    the returned mmviz.live.Comparison shows both maps views side by side."""
    from ..live import compare
    from ..model import World
    return compare(script, World(kernel), pages)
