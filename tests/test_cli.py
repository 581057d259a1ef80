"""The mmviz command: listing, tracing, and one-line errors with exit status 2."""

import json
import subprocess
import sys

from mmviz.trace import Trace

import pytest

from mmviz.scenarios import all_names, names

MMVIZ = [sys.executable, "-m", "mmviz.cli.main"]


def run(*args):
    return subprocess.run(MMVIZ + list(args), capture_output=True, text=True, timeout=120)


def test_scenarios_lists_every_name_with_a_title():
    out = run("scenarios")
    assert out.returncode == 0
    header, *lines = out.stdout.splitlines()
    assert header.split()[:2] == ["scenario", "variants"]
    lines = [line for line in lines if line and not line.endswith(":")]
    assert [line.split()[0] for line in lines] == all_names()
    assert all(len(line.split(None, 2)) == 3 for line in lines)     # name, variants, title


def test_explore_prints_the_table_and_refuses_a_bad_limit():
    out = run("explore", "race-hugetlbfs-no-hide")
    assert out.returncode == 0 and "half-built" in out.stdout
    assert "shortest failing schedule: B runs after A's event" in out.stdout
    bad = run("explore", "race-hugetlbfs-no-hide", "--limit", "-1")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_explore_writes_the_chosen_schedule_as_a_stepper(tmp_path):
    out_file = tmp_path / "race.html"
    out = run("explore", "race-hugetlbfs-truncate", "--kernel", "v3", "-o", str(out_file))
    assert out.returncode == 0, out.stderr
    assert "HTML stepper of the schedule switching after A's event 45" in out.stdout
    page = out_file.read_text()
    assert "A[1] 0x10000000, B[2] 0" in page and "HALF-BUILT" in page
    serial = run("explore", "race-hugetlbfs-truncate", "--kernel", "mainline", "-o",
                 str(tmp_path / "serial.html"))
    assert serial.returncode == 0 and "of the serial run" in serial.stdout
    bad = run("explore", "race-hugetlbfs-truncate", "--switch-at", "9999", "--show")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "mmviz: error: --switch-at 9999: A has switch points 0 to 61 here"]


def test_trace_text_shows_steps_locks_violations_and_layout():
    out = run("trace", "mapped-fail-hidden", "--kernel", "v3")
    assert out.returncode == 0
    text = out.stdout
    assert "  S3 " in text and "[mmap_lock" in text
    assert "[unlock-not-held]" in text
    assert "After (map_count=0):" in text and "(no VMAs)" in text


def test_done_when_json():
    v3 = json.loads(run("trace", "mapped-fail-hidden", "--kernel", "v3", "--format", "json").stdout)
    v4 = json.loads(run("trace", "mapped-fail-hidden", "--kernel", "v4", "--format", "json").stdout)
    assert [v["kind"] for v in v3["violations"]] == ["unlock-not-held"]
    assert "i_mmap" in v3["violations"][0]["lock"]
    assert v4["violations"] == []
    assert v4["result"]["ret"] == -12 and v4["result"]["errno"] == "ENOMEM"
    final = Trace.from_json(run("trace", "mapped-fail-hidden", "--format", "json").stdout).final
    assert not final.vmas.range(0x10000000, 0x10004000)
    base = run("trace", "action-fail-hidden", "--kernel", "baseline")
    assert "[deadlock]" in base.stdout and "never returns" in base.stdout


@pytest.mark.parametrize("args, needle", [
    (("trace", "no-such"), "anon-new"),
    (("trace", "anon-new", "--kernel", "v9"), "baseline"),
    (("trace", "anon-new", "--format", "xml"), "json"),
    (("frobnicate",), "scenarios"),
])
def test_bad_names_and_options_one_line_exit_2(args, needle):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in out.stderr
