"""`mmviz lab`: JupyterLab on the lessons, listening on 127.0.0.1 only, with token auth.

The token is random for each start (or MMVIZ_LAB_TOKEN); the URL with it is printed. The
server gets the token in its environment (JUPYTER_TOKEN), never on its command line: every
local user can read /proc/PID/cmdline, only the owner can read /proc/PID/environ. The
server runs in the foreground until Ctrl-C, which stops it (and its kernels) cleanly.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from ..model.errors import MmvizError

STOP_SECONDS = 30      # how long a stopping server may take to shut its kernels down


def notebooks_dir() -> Path:
    for c in (Path(__file__).resolve().parents[2] / "notebooks", Path.cwd() / "notebooks"):
        if c.is_dir() and any(c.glob("[0-9][0-9]-*.ipynb")):
            return c
    raise MmvizError("cannot find the lessons: run `mmviz lab` inside the mmviz repository "
                     "(it needs notebooks/)")


def lab_command(nbdir: Path, port: int, open_browser: bool) -> list:
    """The server's argv: no secret in it (see lab_env)."""
    cmd = [sys.executable, "-m", "jupyterlab", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.root_dir={nbdir}", f"--ServerApp.open_browser={open_browser}",
           "--ServerApp.port_retries=10"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def lab_env(token: str) -> dict:
    """The server's environment: this one's, with the token in JUPYTER_TOKEN."""
    env = dict(os.environ, JUPYTER_TOKEN=token)
    env.pop("JUPYTER_TOKEN_FILE", None)         # JUPYTER_TOKEN wins anyway; say so plainly
    return env


def _stop(proc):
    """SIGTERM lets Jupyter shut its kernels down; SIGKILL only if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
    cmd = lab_command(nbdir, port, not getattr(args, "no_browser", False))
    proc = subprocess.Popen(cmd, env=lab_env(token))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C is how the lab is meant to stop: stop the server, do not orphan its kernels.
        try:
            _stop(proc)
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
        return 0
