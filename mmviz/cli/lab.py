"""`mmviz lab`: JupyterLab on the lessons, listening on 127.0.0.1 only, with token auth.

The token is random for each start (or MMVIZ_LAB_TOKEN); the URL with it is printed. The
server runs in the foreground until Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from ..model.errors import MmvizError


def notebooks_dir() -> Path:
    for c in (Path(__file__).resolve().parents[2] / "notebooks", Path.cwd() / "notebooks"):
        if c.is_dir() and any(c.glob("[0-9][0-9]-*.ipynb")):
            return c
    raise MmvizError("cannot find the lessons: run `mmviz lab` inside the mmviz repository "
                     "(it needs notebooks/)")


def lab_command(nbdir: Path, port: int, token: str, open_browser: bool) -> list:
    cmd = [sys.executable, "-m", "jupyterlab", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={nbdir}",
           f"--ServerApp.open_browser={open_browser}",
           "--ServerApp.port_retries=10"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def open_lab(args) -> int:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise MmvizError("JupyterLab is not installed: pip install jupyterlab") from None
    nbdir = notebooks_dir()
    token = os.environ.get("MMVIZ_LAB_TOKEN") or secrets.token_urlsafe(24)
    port = getattr(args, "port", 8888)
    first = sorted(nbdir.glob("[0-9][0-9]-*.ipynb"))[0].name
    sys.stderr.write(f"mmviz: JupyterLab on {nbdir}\n"
                     f"mmviz: open http://127.0.0.1:{port}/lab/tree/{first}?token={token}\n"
                     "mmviz: (if the port is busy Jupyter picks the next one and prints it)\n")
    sys.stderr.flush()
    cmd = lab_command(nbdir, port, token, not getattr(args, "no_browser", False))
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0
