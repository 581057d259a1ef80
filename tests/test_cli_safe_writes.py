"""Output files are whole or untouched; Ctrl-C is one line and exit status 130.

A file-size limit (RLIMIT_FSIZE) makes the write fail part-way, as a full disk would: the
command must fail with one line and leave the file that was there byte for byte.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmviz.cli import atomic
from mmviz.cli.atomic import write_atomic

ROOT = Path(__file__).resolve().parents[1]
OLD = b"the old file, which must survive\n" * 10


def _mmviz(args, cwd, fsize_limit=None, **kw):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_limit, fsize_limit))
        # CPython ignores SIGXFSZ already; say so, so a write past the limit is EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen([sys.executable, "-m", "mmviz.cli.main", *args], cwd=cwd, env=env,
                            preexec_fn=limit if fsize_limit else None, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("what", ["export-html", "export-csv", "maps-svg"])
def test_a_write_past_the_file_size_limit_keeps_the_old_file(tmp_path, what):
    out = tmp_path / "out"
    out.mkdir()
    if what == "maps-svg":
        saved = tmp_path / "maps.txt"
        saved.write_bytes(Path("/proc/self/maps").read_bytes())
        target, args, limit = out / "m.svg", ["maps", str(saved)], 8 << 10
    elif what == "export-csv":
        target, args, limit = out / "v.csv", ["export", "fixed-replace", "--format", "csv"], 256
    else:
        target, args, limit = out / "x.html", ["export", "mapped-fail-hidden"], 64 << 10
    target.write_bytes(OLD)
    proc = _mmviz(args + ["-o", str(target)], cwd=tmp_path, fsize_limit=limit)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, (proc.returncode, stderr[-2000:])
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith("mmviz: error: cannot write") and "too large" in stderr, stderr
    assert target.read_bytes() == OLD
    assert sorted(os.listdir(out)) == [target.name]          # no partial file left beside it


def test_the_same_write_without_a_limit_replaces_the_file_keeping_its_mode(tmp_path):
    target = tmp_path / "x.html"
    target.write_bytes(OLD)
    os.chmod(target, 0o640)
    proc = _mmviz(["export", "mapped-fail-hidden", "-o", str(target)], cwd=tmp_path)
    assert proc.communicate(timeout=120) and proc.returncode == 0
    assert target.read_bytes().startswith(b"<!DOCTYPE html>")
    assert (os.stat(target).st_mode & 0o777) == 0o640
    assert os.listdir(tmp_path) == ["x.html"]


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_write_atomic_removes_its_temporary_file_on_failure(tmp_path, monkeypatch, error):
    target = tmp_path / "f.txt"
    target.write_bytes(OLD)

    def fail(fd):
        raise error

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(type(error)):
        write_atomic(target, b"new contents")
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["f.txt"]


def test_write_atomic_writes_through_a_link_and_into_a_pipe(tmp_path):
    real = tmp_path / "real.txt"
    real.write_bytes(OLD)
    (tmp_path / "link.txt").symlink_to("real.txt")
    write_atomic(tmp_path / "link.txt", b"new")
    assert real.read_bytes() == b"new" and (tmp_path / "link.txt").is_symlink()
    r, w = os.pipe()
    try:
        write_atomic(f"/proc/self/fd/{w}", b"through a pipe")
        assert os.read(r, 100) == b"through a pipe"
    finally:
        os.close(r)
        os.close(w)


_WRITES = re.compile(r"\.write_text\(|\.write_bytes\(|copyfile\(|\.pdf\(path=|"
                     r"open\([^)]*[\"'][wax]b?\+?[\"']")


def test_every_output_file_is_written_through_write_atomic():
    offenders = []
    for path in (ROOT / "mmviz").rglob("*.py"):
        if path.name == "atomic.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _WRITES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_ctrl_c_exits_130_with_one_line(tmp_path):
    target = tmp_path / "x.html"
    proc = _mmviz(["export", "success-hook-fail", "-o", str(target)], cwd=tmp_path)
    try:
        # Wait until the export is drawing (matplotlib is imported lazily, inside the
        # command), so the signal lands in the middle of the work, not in start-up.
        deadline = time.monotonic() + 60
        while b"matplotlib" not in Path(f"/proc/{proc.pid}/maps").read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, "it never started drawing"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, stderr[-2000:])
    assert stderr == "mmviz: interrupted\n"
    assert os.listdir(tmp_path) == []                  # no output, no partial file
