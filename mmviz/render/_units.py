"""Sizes in words: 4096 -> '4 KiB' (standard library only, shared by text and pictures)."""

from __future__ import annotations


def human_bytes(n: int) -> str:
    """4096 -> '4 KiB', 3 * 2**30 -> '3 GiB', keeping at most three significant digits."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    value = float(n)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            if value == int(value) or value >= 100:
                return f"{value:.0f} {unit}"
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover
