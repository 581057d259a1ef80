"""Which kernel variants a scenario tells apart, computed from recorded traces.

Two variants are told apart when their traces of the scenario differ in what a reader
checks: the outcome and return value, the lock-rule violations, the warnings, or the VMAs
left at the end. `variant_groups` partitions the variants by that signature; the CLI's
`mmviz scenarios` prints it. Recording every scenario under every variant takes about a
second or two; results are cached per process.
"""

from __future__ import annotations

import functools

from ..model.variants import KERNELS


def signature(trace) -> tuple:
    """What a reader compares between two runs of one scenario."""
    r = trace.result
    return (r.outcome, r.ret,
            tuple(sorted(v.kind for v in trace.violations)),
            tuple(sorted(e.what for e in trace.events if e.kind == "warn")),
            tuple((v.start, v.end, v.vm_flags, v.file) for v in trace.final.vmas))


@functools.lru_cache(maxsize=None)
def variant_groups(name: str) -> tuple:
    """The variants grouped by identical signature, in KERNELS order: ((k, ...), ...)."""
    from . import record
    groups: dict = {}
    for kernel in KERNELS:
        groups.setdefault(signature(record(name, kernel=kernel)), []).append(kernel)
    return tuple(tuple(g) for g in groups.values())


def distinguishes(name: str) -> str:
    """'-' if every variant behaves alike, else the groups: 'baseline=v3 | v4=mainline'."""
    groups = variant_groups(name)
    if len(groups) == 1:
        return "-"
    return " | ".join("=".join(g) for g in groups)
