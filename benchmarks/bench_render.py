"""Rendering speed: per-step pictures, a 65,530-VMA address space, and `mmviz export`.

Run: .venv/bin/python benchmarks/bench_render.py

- per step, layout PNG + timeline PNG for every event of a trace:
    cold   = every picture drawn from scratch (lock intervals recomputed each time);
    cached = what a caller that caches does: lock intervals computed once and passed in,
             the layout PNG reused while the step leaves the VMAs unchanged;
- one address space of 65,530 VMAs (vm.max_map_count's default), PNG and SVG; target 1.5 s;
- `mmviz export` of the largest catalog scenario (a fresh process, as a user runs it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from mmviz.scenarios import names, record
from mmviz.trace import Snapshot, VmaSet, VmaView

P = 4096


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def per_step(trace):
    from mmviz.render.layout import axis_for, layout_png
    from mmviz.trace.query import changed_vmas
    from mmviz.render.timeline import lock_intervals, timeline_png

    axis = axis_for([trace.initial, trace.final] + [e.snapshot for e in trace.events])
    cold, cached = [], []
    for i, e in enumerate(trace.events):
        t0 = time.perf_counter()
        layout_png(e.snapshot, highlight=changed_vmas(trace, i), axis=axis)
        timeline_png(trace, cursor=i)
        cold.append((time.perf_counter() - t0) * 1000)
    intervals = lock_intervals(trace)
    frames = {}
    for i, e in enumerate(trace.events):
        t0 = time.perf_counter()
        hl = frozenset(changed_vmas(trace, i))
        key = (e.snapshot.vmas, hl, e.snapshot.map_count, e.snapshot.pending_action)
        if key not in frames:
            frames[key] = layout_png(e.snapshot, highlight=hl, axis=axis)
        timeline_png(trace, cursor=i, intervals=intervals)
        cached.append((time.perf_counter() - t0) * 1000)
    return cold, cached, len(frames)


def synthetic(n):
    """n VMAs of 1..13 pages, a third file-backed, some VM_SPECIAL, holes and 1 GiB gaps."""
    vmas, a = [], 0x10000000
    for i in range(n):
        pages = 1 + (i * 7919) % 13
        f = None if i % 3 == 0 else f"/usr/lib/lib{i % 50}.so#{i % 50}"
        vmas.append(VmaView.build(i + 1, a, a + pages * P, perms="r--p", file=f,
                                  special=f is not None and i % 17 == 0))
        a += pages * P + (P if i % 4 == 0 else 0) + ((1 << 30) if i % 500 == 0 else 0)
    return Snapshot(VmaSet(vmas), (), (), None, n)


def main():
    import matplotlib  # noqa: F401  (import cost is not a drawing cost)
    from mmviz.render.layout import layout_png, layout_svg

    from mmviz.render.stepper_html import stepper_html

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} (timings scale with load)")
    print()
    print("per-step layout + timeline PNG (ms); stepper = stepper_html(trace) time / steps")
    print(f"{'scenario':22s} {'kernel':8s} {'steps':>5s} {'cold med':>8s} {'cold p95':>8s} "
          f"{'cached med':>10s} {'cached p95':>10s} {'frames':>6s} {'stepper':>8s}")
    for name, kernel in (("success-hook-fail", "v4"), ("mapped-fail-hidden", "v3"),
                         ("fixed-replace", "v4")):
        t = record(name, kernel=kernel)
        per_step(record("anon-new"))                      # warm fonts and caches
        cold, cached, nframes = per_step(t)
        t0 = time.perf_counter()
        stepper_html(t)
        amortised = (time.perf_counter() - t0) * 1000 / len(t)
        print(f"{name:22s} {kernel:8s} {len(t):5d} {statistics.median(cold):8.1f} "
              f"{pct(cold, 95):8.1f} {statistics.median(cached):10.1f} {pct(cached, 95):10.1f} "
              f"{nframes:6d} {amortised:8.1f}")

    print()
    snap = synthetic(65530)
    layout_png(synthetic(2000))                           # warm
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        png = layout_png(snap, title="65,530 VMAs")
        runs.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    svg = layout_svg(snap, title="65,530 VMAs")
    t_svg = time.perf_counter() - t0
    med = statistics.median(runs)
    print(f"65,530 VMAs: PNG median {med:.2f} s (max {max(runs):.2f} s, {len(png) / 1024:.0f} KiB), "
          f"SVG {t_svg:.2f} s ({len(svg) / 1024:.0f} KiB); target <= 1.5 s: "
          f"{'OK' if med <= 1.5 else 'OVER'}")

    print()
    largest = max(((len(record(n, kernel=k)), n, k) for n in names() for k in ("baseline", "v3", "v4")
                   if not n.startswith("nommu")))
    n_events, name, kernel = largest
    exe = os.path.join(os.path.dirname(sys.executable), "mmviz")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "mmviz.cli.main"]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "x.html")
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            subprocess.run(cmd + ["export", name, "--kernel", kernel, "-o", out], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - t0)
        size = os.path.getsize(out)
        pj = os.path.join(d, "x.json")
        t0 = time.perf_counter()
        subprocess.run(cmd + ["export", name, "--kernel", kernel, "--format", "perfetto", "-o", pj],
                       check=True, capture_output=True)
        t_pj = time.perf_counter() - t0
        pj_size = os.path.getsize(pj)
    print(f"mmviz export {name} --kernel {kernel} ({n_events} events, the largest scenario):")
    print(f"  html: {min(times):.2f} s (best of 2, process start included), {size / 1024:.0f} KiB")
    print(f"  perfetto: {t_pj:.2f} s, {pj_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
