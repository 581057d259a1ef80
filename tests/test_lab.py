"""`mmviz lab`: JupyterLab on the lessons, on 127.0.0.1 only, refusing requests without the token.

The token never appears on a command line: /proc/PID/cmdline is readable by every local
user, and the token is code execution as the lab's owner.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "mmviz-test-token-5f3a9c"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token=None, method="GET", timeout=5):
    req = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
    if token:
        req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def _descendants(pid) -> list:
    """pid and every process below it (walking the parent ids in /proc/*/stat)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def _cmdline(pid) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


class Lab:
    """`mmviz lab --no-browser` in its own session, with Jupyter's dirs in a temp folder."""

    def __init__(self, tmp: Path, stdin=subprocess.DEVNULL):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MMVIZ_LAB_TOKEN=TOKEN, JUPYTER_CONFIG_DIR=str(tmp / "config"),
                   JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
                   IPYTHONDIR=str(tmp / "ipython"))
        env.pop("JUPYTER_TOKEN", None)
        self.runtime = tmp / "runtime"
        self.log_path = tmp / "lab.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "mmviz.cli.main", "lab", "--no-browser",
                                      "--port", str(self.port)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=stdin,
                                     start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{self.base}/api/status", TOKEN, timeout=2)
                return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise AssertionError("JupyterLab did not start: " + self.output()[-3000:])
                time.sleep(0.3)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    pytest.importorskip("jupyterlab")
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


def test_lab_command_is_local_and_the_token_is_in_the_environment():
    from mmviz.cli.lab import lab_command, lab_env, notebooks_dir
    cmd = lab_command(notebooks_dir(), 8888, False)
    assert "--ip=127.0.0.1" in cmd
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in cmd
    assert not any("token" in arg.lower() for arg in cmd), cmd
    env = lab_env("t0k")
    assert env["JUPYTER_TOKEN"] == "t0k" and "JUPYTER_TOKEN_FILE" not in env


def test_mmviz_lab_serves_the_lessons(lab):
    status, body = _get(f"{lab.base}/api/contents", TOKEN)
    names = {item["name"] for item in json.loads(body)["content"]}
    assert "00-welcome-and-tour.ipynb" in names and "09-build-your-own.ipynb" in names
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(f"{lab.base}/api/contents")
    assert err.value.code == 403
    # the URL to open, with its token, is printed for the user who started it
    assert f"?token={TOKEN}" in lab.output()


def test_the_token_is_on_no_command_line_of_the_lab_or_its_kernels(lab):
    status, body = _get(f"{lab.base}/api/kernels", TOKEN, method="POST", timeout=30)
    kernel = json.loads(body)["id"]
    try:
        deadline = time.monotonic() + 30
        while True:                     # until the kernel process exists under the server
            procs = _descendants(lab.proc.pid)
            cmdlines = {p: _cmdline(p) for p in procs}
            if any(b"ipykernel" in c for c in cmdlines.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert any(b"jupyterlab" in c or b"jupyter-lab" in c for c in cmdlines.values()), cmdlines
        assert any(b"ipykernel" in c for c in cmdlines.values()), cmdlines
        for pid, cmd in cmdlines.items():
            assert TOKEN.encode() not in cmd, (pid, cmd)
        # the token in the environment is what the server checks: 200 with it, 403 without
        assert _get(f"{lab.base}/api/status", TOKEN)[0] == 200
        for path in ("api/status", "api/kernels", f"api/kernels/{kernel}"):
            with pytest.raises(urllib.error.HTTPError) as err:
                _get(f"{lab.base}/{path}", "not-the-token")
            assert err.value.code in (401, 403)
    finally:
        _get(f"{lab.base}/api/kernels/{kernel}", TOKEN, method="DELETE", timeout=30)


def test_ctrl_c_stops_the_lab_and_its_kernels_cleanly(tmp_path):
    """Ctrl-C in a terminal: SIGINT to the whole process group, stdin a terminal (Jupyter then
    asks "Shut down this Jupyter server?" on its own; mmviz must not kill it mid-question)."""
    pytest.importorskip("jupyterlab")
    import pty
    master, slave = pty.openpty()
    lab = Lab(tmp_path, stdin=slave)
    try:
        _get(f"{lab.base}/api/kernels", TOKEN, method="POST", timeout=30)
        deadline = time.monotonic() + 30
        while not list(lab.runtime.glob("kernel-*.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(lab.runtime.glob("jpserver-*.json")) and list(lab.runtime.glob("kernel-*.json"))
        procs = _descendants(lab.proc.pid)
        os.killpg(lab.proc.pid, signal.SIGINT)          # what Ctrl-C in its terminal sends
        assert lab.proc.wait(timeout=60) == 0
        # a server that shut down (rather than being killed) removed its runtime files
        # and its kernels' connection files, and left no process behind
        assert not list(lab.runtime.glob("jpserver-*")), os.listdir(lab.runtime)
        assert not list(lab.runtime.glob("kernel-*.json")), os.listdir(lab.runtime)
        deadline = time.monotonic() + 10
        while any(os.path.exists(f"/proc/{p}") for p in procs) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in procs if os.path.exists(f"/proc/{p}")]
    finally:
        lab.stop()
        os.close(master)
        os.close(slave)
