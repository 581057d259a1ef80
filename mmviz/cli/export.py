"""`mmviz export NAME [--kernel K] [--nommu] [--format html|perfetto|csv] -o FILE`.

html: one self-contained page that steps through the trace offline (no network, no Python);
perfetto: Chrome Trace Event JSON for ui.perfetto.dev / chrome://tracing;
csv: the VMAs of the final state, one row each.
"""

from __future__ import annotations

import os
import sys


def write_output(path: str, text) -> int:
    """Write text (str or bytes) to path, creating missing parent folders; OSError with a
    one-line reason when that is impossible, and then the old file is untouched (see
    atomic.py). Returns the number of bytes written."""
    from .atomic import write_atomic

    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OSError(f"{path} is a directory: give a file name after -o")
    try:
        os.makedirs(parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OSError(f"cannot create the folder for {path}: a part of {parent} is a file") from None
    except OSError as e:
        raise OSError(f"cannot create {parent}: {e.strerror or e}") from None
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        return write_atomic(path, data)
    except OSError as e:
        raise OSError(f"cannot write {path}: {e.strerror or e}") from None


def export(args) -> int:
    from ..scenarios import record

    trace = record(args.name, kernel=args.kernel, nommu=args.nommu)
    fmt = getattr(args, "format", None) or "html"
    if fmt == "html":
        from ..render.stepper_html import stepper_html
        text = stepper_html(trace)
        what = f"{len(trace.events)}-step HTML stepper"
    elif fmt == "perfetto":
        from ..render.export_formats import perfetto_json
        text = perfetto_json(trace)
        what = "Perfetto / Chrome trace JSON"
    elif fmt == "csv":
        from ..render.export_formats import vma_csv
        text = vma_csv(trace.final)
        what = f"CSV of the {len(trace.final.vmas)} VMAs after the call"
    else:                                   # argparse already limits the choices
        from ..model.errors import InputError
        raise InputError(f"unknown export format {fmt!r}; choose html, perfetto or csv")
    size = write_output(args.output, text)
    sys.stdout.write(f"mmviz: wrote {args.output} ({what}, {size / 1024:.0f} KiB)\n")
    return 0
