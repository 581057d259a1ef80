"""Stepper step latency inside a Jupyter kernel, against the common `interact` idiom.

What is timed: from setting the cursor (`stepper.index = i`, which is what a slider move
or a key press becomes in the kernel) to every pane updated — the observer runs
synchronously, so the setter returns once the label, narration, banner, layout image,
timeline image, call stack, call graph and source have their new values and their comm
messages are sent.

- warm: every frame already in the cache (the background thread has rendered them);
- cold: a fresh Stepper without the background thread, each frame rendered on first visit;
- idiom: `ipywidgets.interactive` (what `interact` builds) over a function that creates a
  new matplotlib Figure (no pyplot) with the layout and the lock timeline, `savefig`s it to
  PNG and displays it with the narration, at every step (the usual notebook pattern).

All three on the same trace (mapped-fail-hidden, v3: 83 events), the same sweep of steps.
By default the measurement runs inside a real ipykernel (started with jupyter_client), so
comm and display messages are really serialised and sent; `--in-process` runs it here
instead (no kernel: widget messages go nowhere).

Targets: warm p95 <= 16 ms; idiom / warm >= 5x.

Run: .venv/bin/python benchmarks/bench_widgets.py [--in-process] [--sweeps N]
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time

SCENARIO, KERNEL = "mapped-fail-hidden", "v3"
TARGET_P95_MS = 16.0
TARGET_RATIO = 5.0


def _pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _summary(xs):
    return {"n": len(xs), "median": statistics.median(xs), "p95": _pct(xs, 95), "max": max(xs)}


# --- the idiom --------------------------------------------------------------------------------

def idiom_widget(trace):
    """`interactive(show, i=slider)`: a new Figure per step, drawn from scratch, savefig PNG."""
    import ipywidgets as W
    from IPython.display import HTML, Image, display
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    events = trace.events
    n = len(events)
    lock_names = []
    for e in events:
        for name in e.snapshot.locks_held:
            if name not in lock_names:
                lock_names.append(name)
    spans = {name: [] for name in lock_names}
    start = {}
    prev = set()
    for e in events:
        now = set(e.snapshot.locks_held)
        for name in now - prev:
            start[name] = e.seq
        for name in prev - now:
            spans[name].append((start.pop(name), e.seq))
        prev = now
    for name in prev:
        spans[name].append((start.pop(name), n))
    addrs = sorted({a for e in events for v in e.snapshot.vmas for a in (v.start, v.end)}) or [0, 1]

    def show(i):
        e = events[i]
        fig = Figure(figsize=(7.0, 5.0), dpi=100)
        FigureCanvasAgg(fig)
        ax, tl = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.2]})
        ax.set_xlim(addrs[0], addrs[-1])
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_title(f"after event {i}: {e.kind} {e.fn}", fontsize=9)
        for v in e.snapshot.vmas:
            face = "#56B4E9" if v.file is None else "#E69F00"
            ax.add_patch(Rectangle((v.start, 0.3 if not v.detached else 0.05), v.end - v.start,
                                   0.5 if not v.detached else 0.2, facecolor=face,
                                   edgecolor="#0072B2" if v.write_locked else "black",
                                   lw=3 if v.write_locked else 1, hatch="//" if v.file else None,
                                   alpha=0.4 if v.detached else 1))
            ax.text((v.start + v.end) / 2, 0.55, f"vma#{v.id} {v.perms}\n{v.file or 'anon'}"
                    + ("\nhidden" if v.hidden else ""), ha="center", va="center", fontsize=7)
        for k, name in enumerate(lock_names):
            tl.broken_barh([(a, b - a) for a, b in spans[name]], (k - 0.3, 0.6), color=f"C{k}")
        tl.set_yticks(range(len(lock_names)))
        tl.set_yticklabels(lock_names, fontsize=7)
        tl.set_xlim(0, n)
        tl.axvline(i, color="black", lw=1.5)
        for v in trace.violations:
            tl.plot([v.seq], [lock_names.index(v.lock) if v.lock in lock_names else 0], "rX", ms=12)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        display(Image(data=buf.getvalue()))
        display(HTML(f"<b>{e.kind}</b> <code>{e.fn}</code>: {e.msg}"))

    return W.interactive(show, i=W.IntSlider(min=0, max=n - 1, value=0, continuous_update=True))


# --- measurements -------------------------------------------------------------------------------

def measure(sweeps=3, idiom_steps=None):
    """Returns {"warm": {...}, "cold": {...}, "idiom": {...}} in milliseconds."""
    from mmviz.scenarios import record
    from mmviz.widgets import Stepper

    trace = record(SCENARIO, kernel=KERNEL)
    n = len(trace.events)
    order = list(range(1, n)) + list(range(n - 2, -1, -1))     # forward, then back

    def time_index(widget, i):
        t0 = time.perf_counter()
        widget.index = i
        return (time.perf_counter() - t0) * 1e3

    out = {"trace": f"{SCENARIO} ({KERNEL}, {n} events)"}

    # cold: fresh stepper, no background thread, first visit of every frame
    t0 = time.perf_counter()
    s = Stepper(trace, prerender=False)
    out["construct_ms"] = (time.perf_counter() - t0) * 1e3
    out["cold"] = _summary([time_index(s, i) for i in range(1, n)])
    s.close()

    # warm: the background thread has rendered every frame
    t0 = time.perf_counter()
    s = Stepper(trace, prerender=True)
    assert s.frames.wait_idle(timeout=120)
    out["prerender_all_s"] = time.perf_counter() - t0
    warm = []
    for _ in range(sweeps):
        warm += [time_index(s, i) for i in order]
    out["warm"] = _summary(warm)
    s.close()

    # the idiom, stepped the same way (one sweep is plenty: it is slow)
    w = idiom_widget(trace)
    slider = w.children[0]
    steps = order if idiom_steps is None else order[:idiom_steps]
    idiom = []
    for i in steps:
        t0 = time.perf_counter()
        slider.value = i
        idiom.append((time.perf_counter() - t0) * 1e3)
    out["idiom"] = _summary(idiom)
    return out


def report(res, where):
    print(f"Stepper step latency ({where}), trace {res['trace']}")
    print(f"  Stepper construction (first frame drawn): {res['construct_ms']:.0f} ms; "
          f"background pre-render of all frames: {res['prerender_all_s']:.2f} s")
    print(f"  {'path':<34}{'n':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for key, name in (("warm", "Stepper, warm (frame cached)"),
                      ("cold", "Stepper, cold (frame rendered)"),
                      ("idiom", "interact + new Figure + savefig")):
        r = res[key]
        print(f"  {name:<34}{r['n']:>6}{r['median']:>12.2f}{r['p95']:>10.2f}{r['max']:>10.2f}")
    w, c, i = res["warm"], res["cold"], res["idiom"]
    ratio_med = i["median"] / w["median"]
    ratio_p95 = i["p95"] / w["p95"]
    print(f"  idiom / warm: {ratio_med:.0f}x (median), {ratio_p95:.0f}x (p95); "
          f"idiom / cold: {i['median'] / c['median']:.1f}x (median)")
    ok_p95 = w["p95"] <= TARGET_P95_MS
    ok_ratio = min(ratio_med, ratio_p95) >= TARGET_RATIO
    print(f"  target warm p95 <= {TARGET_P95_MS:.0f} ms: {'met' if ok_p95 else 'MISSED'}; "
          f"target >= {TARGET_RATIO:.0f}x faster than the idiom: {'met' if ok_ratio else 'MISSED'}")
    return ok_p95 and ok_ratio


def _in_kernel(sweeps):
    """Run measure() inside a fresh ipykernel; return its result dict."""
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        code = (f"import runpy, json\nns = runpy.run_path({os.path.abspath(__file__)!r}, "
                f"run_name='mmviz_bench')\nprint('RESULT ' + json.dumps(ns['measure']({sweeps})))")
        lines = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                lines.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                lines.append("\n".join(msg["content"]["traceback"]))
        reply = kc.execute_interactive(code, output_hook=hook, timeout=900)
        text = "".join(lines)
        if reply["content"]["status"] != "ok" or "RESULT " not in text:
            raise RuntimeError("the benchmark failed in the kernel:\n" + text[-3000:])
        return json.loads(text.split("RESULT ", 1)[1].splitlines()[0])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--in-process", action="store_true", help="measure here, without a kernel")
    p.add_argument("--sweeps", type=int, default=3, help="warm sweeps over the trace (default 3)")
    a = p.parse_args(argv)
    if a.in_process:
        ok = report(measure(a.sweeps), "in this process, no kernel")
    else:
        ok = report(_in_kernel(a.sweeps), "inside an ipykernel")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
