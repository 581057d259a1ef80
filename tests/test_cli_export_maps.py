"""`mmviz export` and `mmviz maps`: files written, folders made, errors in one line."""

import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from mmviz.cli.main import main
from mmviz.scenarios import record

SVG = "{http://www.w3.org/2000/svg}"


def vma_box_count(svg_path):
    root = ET.parse(svg_path).getroot()
    n = 0
    for g in root.iter(SVG + "g"):
        if g.get("id") in ("mmviz-anon", "mmviz-file", "mmviz-special"):
            n += sum(1 for _ in g.iter(SVG + "path"))
    return n


def test_export_html_is_one_self_contained_file(tmp_path, capsys):
    out = tmp_path / "x.html"
    assert main(["export", "mapped-fail-hidden", "--kernel", "v3", "-o", str(out)]) == 0
    assert os.listdir(tmp_path) == ["x.html"]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for bad in ('src="http', "src='http", 'href="http', "url(http", "@import", "<link rel=\"stylesheet"):
        assert bad not in text
    assert "wrote" in capsys.readouterr().out


def test_export_perfetto_and_csv_into_new_folders(tmp_path):
    pj = tmp_path / "a" / "b" / "trace.json"
    assert main(["export", "remap-pfn", "--format", "perfetto", "-o", str(pj)]) == 0
    doc = json.loads(pj.read_text())
    assert doc["displayTimeUnit"] == "ms" and doc["traceEvents"]
    cf = tmp_path / "c" / "final.csv"
    assert main(["export", "fixed-replace", "--format", "csv", "-o", str(cf)]) == 0
    rows = list(csv.DictReader(io.StringIO(cf.read_text())))
    assert len(rows) == len(record("fixed-replace").final.vmas)


def test_export_nommu(tmp_path):
    out = tmp_path / "n.html"
    assert main(["export", "nommu-remap", "--nommu", "--kernel", "v4", "-o", str(out)]) == 0
    assert "(nommu)" in out.read_text(encoding="utf-8")


def test_export_errors_are_one_line(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["export", "anon-new", "-o", str(f / "sub" / "x.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mmviz: error:" in err and "is a file" in err
    assert main(["export", "anon-new", "-o", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err


def test_maps_draws_this_process(tmp_path):
    out = tmp_path / "m.svg"
    with open("/proc/self/maps") as f:
        lines = [ln for ln in f if ln.strip() and not ln.startswith("ffffffffff600000")]
    assert main(["maps", "-o", str(out)]) == 0
    boxes = vma_box_count(out)
    assert len(lines) > 20                  # a Python process maps plenty
    assert boxes >= 0.8 * len(lines), (boxes, len(lines))
    assert "[heap]" in out.read_text() or "[stack]" in out.read_text()


def test_maps_from_a_pid_and_a_saved_file(tmp_path):
    saved = tmp_path / "maps.txt"
    with open("/proc/self/maps") as f:
        saved.write_text(f.read())
    out = tmp_path / "from-file.svg"
    assert main(["maps", str(saved), "-o", str(out)]) == 0
    assert vma_box_count(out) > 10
    out2 = tmp_path / "pid.png"
    assert main(["maps", str(os.getpid()), "-o", str(out2)]) == 0
    assert out2.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("argv,needle", [
    (["maps", "999999999"], "no process with pid 999999999"),
    (["maps", "/nonexistent/maps"], "no such file"),
])
def test_maps_errors(tmp_path, capsys, argv, needle):
    assert main(argv + ["-o", str(tmp_path / "x.svg")]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_maps_rejects_text_that_is_not_maps(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.write_text("hello world\n")
    assert main(["maps", str(bad), "-o", str(tmp_path / "x.svg")]) == 2
    assert "not a /proc/PID/maps line" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.write_text("")
    assert main(["maps", str(empty), "-o", str(tmp_path / "x.svg")]) == 2
    assert "empty" in capsys.readouterr().err


def test_console_errors_have_no_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "mmviz.cli.main", "maps", "999999999", "-o",
                          str(tmp_path / "x.svg")], capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
