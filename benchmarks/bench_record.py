"""Recording speed: every catalog scenario under every kernel, the variants each scenario
tells apart, and one mmap inside address spaces of growing size.

Run: .venv/bin/python benchmarks/bench_record.py [--repeat N]

1. Catalog: `record(name, kernel)` per scenario and kernel, median of repeated runs
   (world set-up included, as a user calls it); target <= 10 ms each. Then the time
   `mmviz scenarios` spends recording every scenario under every kernel to show which
   variants each one tells apart.
2. Scaling: `record("mapped-fail-hidden", kernel="v3", prefill=N)` for N = 100, 1,000, 10,000
   and 30,000 pre-populated VMAs. Timed is the recording only: the Recorder's lifetime, from
   its creation (after the prefill and the scenario's set-up) to `finish()` returning the
   Trace. Memory is what tracemalloc sees allocated during that lifetime and still held
   afterwards (the trace's objects). JSON is `trace.to_json()`; "loads" is
   `Trace.from_json` of it, checked equal in events and final VMAs. Targets at 30,000 VMAs:
   <= 0.3 s, <= 20 MB, JSON <= 5 MB, and it loads back. The cost must grow with what the
   call changes, not with the VMA count: the per-event cost is printed for each N.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc

from mmviz.model.variants import KERNELS
from mmviz.scenarios import names, record

CATALOG_REPEAT = 25
SIZES = (100, 1_000, 10_000, 30_000)
TARGET_S, TARGET_MB, TARGET_JSON_MB = 0.3, 20.0, 5.0


def catalog(repeat):
    print("1. Recording every catalog scenario (median of %d runs, world set-up included)"
          % repeat)
    print(f"   {'scenario':26s} {'kernel':8s} {'median ms':>9s} {'max ms':>7s} {'events':>6s}")
    worst = 0.0
    for name in names():
        for kernel in KERNELS:
            record(name, kernel)            # warm imports and caches
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                t = record(name, kernel)
                times.append((time.perf_counter() - t0) * 1000)
            med = statistics.median(times)
            worst = max(worst, med)
            print(f"   {name:26s} {kernel:8s} {med:9.2f} {max(times):7.2f} {len(t):6d}")
    ok = worst <= 10
    print(f"   worst median: {worst:.2f} ms (target <= 10 ms): {'met' if ok else 'MISSED'}")
    from mmviz.scenarios.distinguish import variant_groups
    variant_groups.cache_clear()
    t0 = time.perf_counter()
    for name in names():
        variant_groups(name)
    total = time.perf_counter() - t0
    print(f"   variants told apart, all {len(names())} scenarios x {len(KERNELS)} kernels: "
          f"{total * 1000:.0f} ms")
    return ok


class _Timed:
    """Wraps the scenario runner's Recorder: notes when it is made and when it finishes,
    and optionally measures with tracemalloc what the recording leaves allocated."""

    def __init__(self, memory):
        import mmviz.scenarios.base as base
        self.base, self.real, self.memory = base, base.Recorder, memory
        self.t0 = self.t1 = None
        self.mem = None
        timed = self

        class Recorder(self.real):
            def __init__(self, *a, **kw):
                gc.collect()
                if timed.memory:
                    tracemalloc.start()
                timed.t0 = time.perf_counter()
                super().__init__(*a, **kw)
                timed.t_init = time.perf_counter()      # the first snapshot: every VMA once

            def finish(self, *a, **kw):
                trace = super().finish(*a, **kw)
                timed.t1 = time.perf_counter()
                if timed.memory:
                    gc.collect()
                    timed.mem = tracemalloc.get_traced_memory()[0]
                    tracemalloc.stop()
                return trace
        self.cls = Recorder

    def __enter__(self):
        self.base.Recorder = self.cls
        return self

    def __exit__(self, *exc):
        self.base.Recorder = self.real


def one_size(n):
    record("mapped-fail-hidden", kernel="v3", prefill=n)       # warm
    times, firsts = [], []
    for _ in range(3):
        with _Timed(memory=False) as tm:
            trace = record("mapped-fail-hidden", kernel="v3", prefill=n)
        times.append(tm.t1 - tm.t0)
        firsts.append(tm.t_init - tm.t0)
    with _Timed(memory=True) as tm:
        mtrace = record("mapped-fail-hidden", kernel="v3", prefill=n)
    text = trace.to_json()
    t0 = time.perf_counter()
    from mmviz.trace import Trace
    back = Trace.from_json(text)
    load_s = time.perf_counter() - t0
    loads = (len(back.events) == len(trace.events)
             and [v.start for v in back.final.vmas] == [v.start for v in trace.final.vmas])
    del mtrace
    return {"n": n, "s": statistics.median(times), "first": statistics.median(firsts),
            "mb": tm.mem / 2**20,
            "json_mb": len(text.encode()) / 2**20, "events": len(trace.events), "loads": loads,
            "load_s": load_s,
            "changed": sum(len(e.snapshot.set_views) + len(e.snapshot.del_ids) for e in trace.events)}


def scaling():
    print("\n2. One mmap (mapped-fail-hidden, v3) in an address space of N pre-populated VMAs")
    print("   time = the Recorder's lifetime (median of 3, prefill and set-up not counted);")
    print("   memory = what the recording leaves allocated (tracemalloc); JSON = to_json();")
    print("   loads = Trace.from_json gives back the same events and final VMAs.")
    print("   The recording is the first snapshot (every VMA, once) plus the events (what changed).")
    print(f"   {'VMAs':>7s} {'events':>6s} {'changes':>7s} {'time s':>7s} {'1st snap s':>10s} "
          f"{'µs/event':>9s} {'memory MB':>9s} {'JSON MB':>8s} {'load s':>7s} {'loads':>5s}")
    rows = [one_size(n) for n in SIZES]
    for r in rows:
        per_event = (r["s"] - r["first"]) / r["events"] * 1e6
        print(f"   {r['n']:7,d} {r['events']:6d} {r['changed']:7d} {r['s']:7.3f} "
              f"{r['first']:10.3f} {per_event:9.0f} {r['mb']:9.2f} {r['json_mb']:8.3f} "
              f"{r['load_s']:7.3f} {'yes' if r['loads'] else 'NO':>5s}")
    a, b = rows[0], rows[-1]
    ea = (a["s"] - a["first"]) / a["events"]
    eb = (b["s"] - b["first"]) / b["events"]
    print(f"   {b['n'] // a['n']}x the VMAs, the same {b['changed']} changes: the per-event cost "
          f"goes {ea * 1e6:.0f} -> {eb * 1e6:.0f} µs ({eb / ea:.1f}x); what grows with N is the "
          f"first snapshot ({a['first'] * 1e3:.1f} -> {b['first'] * 1e3:.1f} ms), held once")
    big = rows[-1]
    checks = [("time <= %.1f s" % TARGET_S, big["s"] <= TARGET_S),
              ("memory <= %.0f MB" % TARGET_MB, big["mb"] <= TARGET_MB),
              ("JSON <= %.0f MB" % TARGET_JSON_MB, big["json_mb"] <= TARGET_JSON_MB),
              ("loads back", big["loads"])]
    print("   targets at 30,000 VMAs: " + "; ".join(f"{what}: {'met' if ok else 'MISSED'}"
                                                    for what, ok in checks))
    return all(ok for _, ok in checks)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=CATALOG_REPEAT)
    a = p.parse_args(argv)
    ok = catalog(a.repeat)
    ok = scaling() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
