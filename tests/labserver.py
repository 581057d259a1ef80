"""A throw-away JupyterLab server and the system Chromium, for browser tests and benchmarks.

Follows /work/shared/notes/jupyter-stack.md: fresh config/data/runtime dirs, a token, the
settings overrides (no news toast, no cell virtualisation), `--allow-root` when root, ready
when /api/status answers, kernel idle checked through /api/sessions before Run All, and the
server stopped by its PID. Chromium is Debian's (/usr/bin/chromium); never `playwright install`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


def browser_available() -> str | None:
    """None if a browser test can run here, else the reason it cannot."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if shutil.which("jupyter-lab", path=os.path.dirname(sys.executable)) is None:
        return "jupyter-lab is not installed next to this Python"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path, cells: list[str]):
    """A minimal nbformat-4 notebook of code cells (no nbformat import needed)."""
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"},
                       "language_info": {"name": "python"}},
          "cells": [{"cell_type": "code", "id": f"cell{i}", "metadata": {}, "execution_count": None,
                     "outputs": [], "source": src} for i, src in enumerate(cells)]}
    path.write_text(json.dumps(nb, indent=1))


class LabServer:
    def __init__(self, root: Path | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix="mmviz-lab-"))
        self.root = Path(root) if root else self.tmp / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60.0) -> "LabServer":
        settings = self.tmp / "settings"
        settings.mkdir()
        (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        env = dict(os.environ)
        for name in ("config", "data", "runtime"):
            (self.tmp / name).mkdir()
        env["JUPYTER_CONFIG_DIR"] = str(self.tmp / "config")
        env["JUPYTER_DATA_DIR"] = str(self.tmp / "data")
        env["JUPYTER_RUNTIME_DIR"] = str(self.tmp / "runtime")
        env["IPYTHONDIR"] = str(self.tmp / "ipython")
        env.pop("JUPYTER_PATH", None)
        env["JUPYTER_TOKEN"] = self.token       # not on the command line: /proc/PID/cmdline is public
        exe = os.path.join(os.path.dirname(sys.executable), "jupyter-lab")
        cmd = [exe, "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               f"--ServerApp.root_dir={self.root}",
               f"--LabApp.app_settings_dir={settings}", "--ServerApp.port_retries=0"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = open(self.tmp / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=str(self.root))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("jupyter lab exited: " + self.log_text()[-2000:])
            try:
                self.api("status")
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("jupyter lab did not answer /api/status in time")

    def log_text(self) -> str:
        try:
            return (self.tmp / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def api(self, path, timeout=5.0, method="GET"):
        req = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read().decode()
        return json.loads(body) if body else None

    def shutdown_sessions(self, notebook: str, timeout=30.0):
        """Close the notebook's sessions and shut their kernels down."""
        for s in self.api("sessions"):
            if s.get("path", "").endswith(notebook):
                self.api(f"sessions/{s['id']}", timeout=timeout, method="DELETE")

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def wait_kernel_idle(self, notebook: str, timeout=60.0):
        """Until the notebook's kernel is connected and idle (trap 1 of the notes)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for s in self.api("sessions"):
                if s.get("path", "").endswith(notebook):
                    k = s.get("kernel") or {}
                    if k.get("connections", 0) >= 1 and k.get("execution_state") == "idle":
                        return s
            time.sleep(0.25)
        raise TimeoutError(f"the kernel of {notebook} did not become idle")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def run_all(page, server: LabServer, notebook: str, timeout_ms=60000):
    """Open the notebook in JupyterLab, wait for its kernel, Run All Cells."""
    page.goto(server.url(f"lab/tree/{notebook}?reset"))
    page.wait_for_selector(".jp-Notebook", timeout=timeout_ms)
    server.wait_kernel_idle(notebook, timeout=timeout_ms / 1000)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=timeout_ms)
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=timeout_ms)
