"""Write the lesson notebooks in notebooks/ from their sources in tools/lessons/.

    python tools/make_notebooks.py          # (re)write every notebook
    python tools/make_notebooks.py --check  # exit 1 if a committed notebook differs

The notebooks are committed without outputs; edit the sources here, not the .ipynb files
(`--check` runs in the test suite so the two never drift apart).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "notebooks"

LESSONS = ["l00_welcome", "l01_address_spaces", "l02_merging", "l03_mmap_prepare",
           "l04_stepping", "l05_actions", "l06_rmap_lock", "l07_fix", "l08_compat_nommu",
           "l09_build", "l10_two_tasks"]

METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                   "name": "python3"},
    "language_info": {"name": "python", "pygments_lexer": "ipython3"},
}


def build(module_name: str) -> tuple:
    sys.path.insert(0, str(HERE))
    try:
        mod = importlib.import_module(f"lessons.{module_name}")
    finally:
        sys.path.pop(0)
    cells = []
    prefix = mod.NAME[:2]
    for i, c in enumerate(mod.CELLS):
        cell = {"cell_type": c["cell_type"], "id": f"l{prefix}-{i:03d}",
                "metadata": c["metadata"], "source": c["source"]}
        if c["cell_type"] == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        cells.append(cell)
    meta = dict(METADATA, title=mod.TITLE)
    nb = {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
    return mod.NAME, nb


def render(nb: dict) -> str:
    # nbformat's own writer: sorted keys, one-space indent, trailing newline.
    import nbformat
    node = nbformat.from_dict(nb)
    nbformat.validate(node)
    return nbformat.writes(node) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    bad = []
    for name in LESSONS:
        stem, nb = build(name)
        text = render(nb)
        path = OUT / f"{stem}.ipynb"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                bad.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({len(nb['cells'])} cells)")
    if args.check:
        if bad:
            print("out of date (run python tools/make_notebooks.py): " + ", ".join(bad))
            return 1
        print(f"{len(LESSONS)} notebooks match their sources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
