"""`mmviz lab`: JupyterLab on the lessons, on 127.0.0.1 only, refusing requests without the token."""

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


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_command_is_local_and_token_protected():
    from mmviz.cli.lab import lab_command, notebooks_dir
    cmd = lab_command(notebooks_dir(), 8888, "t0k", False)
    assert "--ip=127.0.0.1" in cmd and "--IdentityProvider.token=t0k" in cmd
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in cmd


def test_mmviz_lab_serves_the_lessons(tmp_path):
    pytest.importorskip("jupyterlab")
    port = _free_port()
    token = "mmviz-test-token"
    env = dict(os.environ, MMVIZ_LAB_TOKEN=token, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    proc = subprocess.Popen([sys.executable, "-m", "mmviz.cli.main", "lab", "--no-browser",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError("JupyterLab did not start: "
                                         + proc.stdout.read1(4000).decode(errors="replace"))
                time.sleep(0.3)
        listing = json.load(urllib.request.urlopen(f"{base}/api/contents?token={token}"))
        names = {item["name"] for item in listing["content"]}
        assert "00-welcome-and-tour.ipynb" in names and "09-build-your-own.ipynb" in names
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/api/contents", timeout=5)
        assert err.value.code == 403
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
