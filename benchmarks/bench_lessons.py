"""Lessons: time to execute every notebook headless (target: all of them in <= 90 s on a
2-core machine) and to export every deck (offline reveal.js + PDF handouts).

Run: .venv/bin/python benchmarks/bench_lessons.py [--no-pdf] [--skip-slides]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 90.0


def execute_all(static: bool) -> list:
    from mmviz.cli.slides import execute, lesson_notebooks
    rows = []
    for path in lesson_notebooks(ROOT):
        t0 = time.perf_counter()
        execute(path, static=static)
        rows.append((path.stem, time.perf_counter() - t0))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--skip-slides", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")

    print("\nnotebooks executed headless, live widgets (as the tests run them)")
    rows = execute_all(static=False)
    total = sum(s for _, s in rows)
    for name, s in rows:
        print(f"  {name:32s} {s:6.1f} s")
    print(f"  {'total':32s} {total:6.1f} s   target <= {TARGET_S:.0f} s: "
          f"{'OK' if total <= TARGET_S else 'OVER'} ({total / TARGET_S:.0%} of the budget)")

    if not args.skip_slides:
        from mmviz.cli.slides import build
        print("\nmmviz slides (static execution + reveal export"
              + ("" if args.no_pdf else " + PDF handouts") + ")")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = build(Path(tmp), pdf=not args.no_pdf, log=lambda *a, **k: None)
            wall = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
        for k, v in result["seconds"].items():
            print(f"  {k:32s} {v:6.1f} s")
        print(f"  {'total':32s} {wall:6.1f} s   ({len(result['decks'])} decks, "
              f"{len(result['pdfs'])} PDFs, {size / 1e6:.1f} MB with assets)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
