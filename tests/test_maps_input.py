"""Reading maps texts: lines end at '\\n' only, and a text too large is refused, never cut."""

from __future__ import annotations

import pytest

import mmviz
from mmviz.cli.main import main
from mmviz.cli.maps import MAX_MAPS_BYTES, read_maps_source
from mmviz.model.errors import InputError
from mmviz.model.proc_maps import parse_maps, parse_maps_line

PAD = " " * 10
LINES = [
    "10000000-10002000 rw-s 00000000 00:01 4242" + PAD + "/memfd:buf (deleted)",
    "10002000-10003000 r--p 00000000 00:00 0 ",
    "10003000-10004000 r--p 00001000 08:01 77" + PAD + "/tmp/form\x0cfeed",
    "10004000-10005000 r--p 00000000 08:01 78" + PAD + "/tmp/next\x85line",
    "10005000-10006000 r--p 00000000 08:01 79" + PAD + "/tmp/line\u2028sep and\u2029para",
    "10006000-10007000 r--p 00000000 08:01 80" + PAD + "/tmp/car\rriage",
    "10007000-10008000 r--p 00000000 08:01 81" + PAD + "/tmp/\x1cfile\x1dgroup\x1erecord",
]


def _maps(lines):
    """As the kernel prints them: the name from column 73."""
    out = []
    for line in lines:
        head, sep, name = line.partition(PAD)
        out.append(head.ljust(72) + " " + name if sep else line)
    return "".join(line + "\n" for line in out)


def test_names_with_unicode_line_breaks_stay_one_line():
    text = _maps(LINES)
    entries = parse_maps(text)
    assert len(entries) == len(LINES)
    assert [e["name"] for e in entries[2:]] == [
        "/tmp/form\x0cfeed", "/tmp/next\x85line", "/tmp/line\u2028sep and\u2029para",
        "/tmp/car\rriage", "/tmp/\x1cfile\x1dgroup\x1erecord"]
    w = mmviz.World.from_maps(text)
    assert w.proc_maps() == text
    w.validate()


def test_a_text_saved_with_crlf_line_ends_reads_the_same():
    text = _maps(LINES[:3])
    assert parse_maps(text.replace("\n", "\r\n")) == parse_maps(text)
    # a lone \r inside a name of an LF text is part of the name, not a line end
    assert parse_maps(_maps(LINES[5:6]))[0]["name"] == "/tmp/car\rriage"


@pytest.mark.parametrize("line", [
    "10000000-10001000 r--p 00000000 08:01 \u0663",             # an Arabic-Indic digit
    "10000000-10001000 r--p 00000000 08:01 12/tmp/x",           # no space before the name
    "10000000-10001000 r--p 00000000 08:01\t12 /tmp/x",
])
def test_lines_the_kernel_cannot_print_are_refused(line):
    with pytest.raises(InputError):
        parse_maps_line(line)


def _big_maps(path, size):
    """A valid maps text of more than `size` bytes whose last line straddles `size`."""
    line = "%012x-%012x r--p 00000000 08:01 123456" + PAD + "/usr/lib/x86_64-linux-gnu/libfoo.so\n"
    n = size // len(line % (0, 0)) + 2
    with open(path, "w") as f:
        f.writelines(line % (0x10000000 + i * 4096, 0x10000000 + (i + 1) * 4096)
                     for i in range(n))


def test_a_maps_text_larger_than_the_limit_is_refused_not_cut(tmp_path, capsys):
    big = tmp_path / "maps.txt"
    _big_maps(big, MAX_MAPS_BYTES)
    assert big.stat().st_size > MAX_MAPS_BYTES
    with pytest.raises(InputError) as exc:
        read_maps_source(str(big))
    assert "larger than 64 MiB" in str(exc.value) and "\n" not in str(exc.value)
    assert main(["maps", str(big), "-o", str(tmp_path / "m.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "larger than 64 MiB" in err
    assert not (tmp_path / "m.svg").exists()
