"""The address-space picture, checked by structure: which boxes, hatches, colours, labels."""

import io
import xml.etree.ElementTree as ET

import pytest

from mmviz.scenarios import record
from mmviz.trace import Snapshot, VmaSet, VmaView

mpl = pytest.importorskip("matplotlib")   # a runtime dependency: present in every install

from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from mmviz.render.layout import (KINDS, AddressAxis, axis_for, before_after_figure,  # noqa: E402
                                 layout_figure, layout_png, layout_svg)
from mmviz.trace.query import changed_vmas  # noqa: E402

P = 4096
A = 0x10000000


def vma(ident, start, pages, *, file=None, special=False, write_locked=False, hidden=False,
        detached=False, perms="rw-p", pgoff=0, anon_vma=None):
    return VmaView.build(ident, start, start + pages * P, pgoff, perms=perms, file=file,
                         anon_vma=anon_vma, write_locked=write_locked, detached=detached,
                         hidden=hidden, special=special)


def snap(*vmas, map_count=None):
    return Snapshot(VmaSet(vmas), (), (), None, len(vmas) if map_count is None else map_count)


FIXED = snap(
    vma(1, A, 2),                                               # anonymous
    vma(2, A + 2 * P, 2, file="/mnt/data#1", pgoff=5),          # file-backed
    vma(3, A + 4 * P, 2, file="/dev/fb0#2", special=True),      # VM_SPECIAL
    vma(4, A + 6 * P, 2, file="/mnt/hidden#3", hidden=True, write_locked=True),
    vma(5, A + 8 * P, 2, detached=True),
)


def collections(fig):
    out = {}
    for ax in fig.axes:
        for c in ax.collections:
            if isinstance(c, PolyCollection) and c.get_gid():
                out.setdefault(c.get_gid(), []).append(c)
    return out


def texts(fig):
    out = [t.get_text() for ax in fig.axes for t in ax.texts]
    out += [t.get_text() for t in fig.texts]
    for leg in fig.legends:
        out += [t.get_text() for t in leg.get_texts()]
    return out


def test_each_kind_is_its_own_collection_with_colour_and_hatch():
    fig = layout_figure(FIXED)
    cols = collections(fig)
    anon, file, special = cols["mmviz-anon"][0], cols["mmviz-file"][0], cols["mmviz-special"][0]
    # vma 1 anon, vmas 2 and 4 file, vma 3 special; the detached one has its own collection
    assert len(anon.get_paths()) == 1
    assert len(file.get_paths()) == 2
    assert len(special.get_paths()) == 1
    assert len(cols["mmviz-anon-detached"][0].get_paths()) == 1
    assert to_hex(anon.get_facecolor()[0]) == KINDS["anon"][0].lower()
    assert to_hex(file.get_facecolor()[0]) == KINDS["file"][0].lower()
    assert to_hex(special.get_facecolor()[0]) == KINDS["special"][0].lower()
    assert not anon.get_hatch()
    assert file.get_hatch() == "//"
    assert special.get_hatch() == "xx"
    # never colour alone: every kind differs in colour and in hatch
    assert len({to_hex(c.get_facecolor()[0]) for c in (anon, file, special)}) == 3
    assert len({c.get_hatch() or "" for c in (anon, file, special)}) == 3


def test_state_overlays_hidden_locked_detached():
    cols = collections(layout_figure(FIXED))
    locked = cols["mmviz-write-locked"][0]
    hidden = cols["mmviz-hidden"][0]
    assert len(locked.get_paths()) == 1 and len(hidden.get_paths()) == 1
    assert to_hex(locked.get_edgecolor()[0]) == "#0072b2"        # blue outline
    assert locked.get_linewidth()[0] >= 2.5                         # ... and thick
    assert hidden.get_hatch() == "o"                                # hatch, not colour alone
    assert to_hex(hidden.get_edgecolor()[0]) == "#009e73"
    det = cols["mmviz-anon-detached"][0]
    assert det.get_alpha() is not None and det.get_alpha() < 0.5   # faded
    assert det.get_linestyle()[0][1] is not None                     # dashed


def test_labels_name_range_perms_file_and_pgoff():
    t = texts(layout_figure(FIXED))
    joined = "\n".join(t)
    assert f"{A:#x}–{A + 2 * P:#x}" in joined
    assert "vma#2 rw-p" in joined
    assert "data#1 @pgoff 0x5" in joined
    assert "write-locked, hidden" in joined or "write-locked" in joined


def test_legend_names_every_kind_and_state_shown():
    leg = [t.get_text() for t in layout_figure(FIXED, highlight={2}).legends[0].get_texts()]
    for word in ("anonymous", "file-backed", "VM_SPECIAL", "hidden from rmap", "write-locked",
                 "detached", "changed by this step"):
        assert any(word in entry for entry in leg), (word, leg)


def test_highlight_marks_only_the_changed_vma():
    cols = collections(layout_figure(FIXED, highlight={3}))
    assert len(cols["mmviz-changed"][0].get_paths()) == 1
    assert "mmviz-changed" not in collections(layout_figure(FIXED))


def test_empty_stretches_are_compressed_into_labelled_breaks():
    far = snap(vma(1, A, 4), vma(2, A + (1 << 40), 4, file="/f#1"))
    axis = AddressAxis((v.start, v.end) for v in far.vmas)
    assert axis.scale == "linear"
    kinds = [p[0] for p in axis.pieces]
    assert kinds == ["map", "break", "map"]
    brk = axis.breaks()[0]
    # a terabyte of nothing is drawn no wider than either 4-page VMA
    assert brk[4] - brk[3] <= axis.x(A + 4 * P) - axis.x(A)
    t = texts(layout_figure(far))
    assert any(s.startswith("1024 GiB") or s.startswith("1 TiB") for s in t), t


def test_small_hole_is_drawn_to_scale_and_marked_unmapped():
    t = record("anon-merge-both")
    axis = AddressAxis((v.start, v.end) for v in t.initial.vmas)
    assert [p[0] for p in axis.pieces] == ["map", "hole", "map"]
    hole = axis.pieces[1]
    assert hole[4] - hole[3] == pytest.approx((axis.pieces[0][4] - axis.pieces[0][3]) / 2)
    assert "mmviz-unmapped" in collections(layout_figure(t.initial))


def test_a_shared_axis_keeps_boxes_in_place_between_steps():
    t = record("fixed-replace")
    axis = axis_for([t.initial, t.final] + [e.snapshot for e in t.events])
    a = collections(layout_figure(t.initial, axis=axis))["mmviz-file"][0].get_paths()[0]
    b = collections(layout_figure(t.final, axis=axis))
    left_before = a.vertices[:, 0].min()
    right_before = a.vertices[:, 0].max()
    xs = [p.vertices[:, 0] for c in b.values() for col in c for p in col.get_paths()
          if c is not b.get("mmviz-changed")]
    assert min(x.min() for x in xs) == pytest.approx(left_before)
    assert max(x.max() for x in xs) == pytest.approx(right_before)


def test_changed_vmas_between_events():
    t = record("fixed-replace")
    for i in range(len(t)):
        before = {v.id: v for v in (t[i - 1].snapshot if i else t.initial).vmas}
        after = {v.id: v for v in t[i].snapshot.vmas}
        expected = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        if t[i].kind == "vma" and "vma" in t[i].data:
            expected.add(t[i].data["vma"])        # the VMA the event is about
        assert changed_vmas(t, i) == expected, i
    new_vma = next(e for e in t.events if e.kind == "vma" and e.fn == "__mmap_new_vma")
    assert new_vma.data["vma"] in changed_vmas(t, new_vma.seq)
    assert any(not changed_vmas(t, i) for i in range(len(t)))
    # after the call: the two split-off ends and the new anonymous VMA differ from before
    assert {v.id for v in t.final.vmas} == {2, 3, 4}


def test_empty_address_space_says_so():
    assert any("no VMAs" in s for s in texts(layout_figure(snap())))


def test_png_and_svg_outputs():
    png = layout_png(FIXED)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = layout_svg(FIXED, title="fixed")
    root = ET.fromstring(svg.encode())
    assert root.tag.endswith("svg")
    ids = {el.get("id") for el in root.iter()}
    assert {"mmviz-anon", "mmviz-file", "mmviz-special", "mmviz-hidden", "mmviz-write-locked"} <= ids
    assert "vma#2 rw-p" in svg                       # text stays text


def test_default_size_is_slide_sized():
    fig = layout_figure(FIXED)
    assert tuple(fig.get_size_inches()) == (9, 2.6)


def test_before_after_stacks_two_pictures_on_one_axis():
    t = record("anon-merge-both")
    fig = before_after_figure(t)
    t_ = texts(fig)
    assert any(s.startswith("before") for s in t_) and any(s.startswith("after") for s in t_)
    cols = collections(fig)
    assert len(cols["mmviz-anon"]) == 2               # one per picture
    assert len(cols["mmviz-changed"]) == 1            # the merged VMA, after


def test_65530_vmas_draw_binned_without_per_vma_labels():
    vmas = []
    a = A
    for i in range(65530):
        pages = 1 + i % 5
        vmas.append(vma(i + 1, a, pages, file=None if i % 3 else f"/lib/l{i % 7}#1"))
        a += (pages + (i % 2)) * P + ((1 << 30) if i % 1000 == 0 else 0)
    big = snap(*vmas)
    fig = layout_figure(big, title="65,530 VMAs")
    cols = collections(fig)
    assert "mmviz-anon" in cols and "mmviz-file" in cols
    # binned: a few polygons, not 65,530 of them; no per-VMA labels
    assert sum(len(c.get_paths()) for cs in cols.values() for c in cs) < 200
    assert not any(s.startswith("vma#") for s in texts(fig))
    assert any("dense" in s for s in texts(fig))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG")


def test_no_pyplot_anywhere():
    import sys
    layout_png(FIXED)
    assert "matplotlib.pyplot" not in sys.modules


def test_import_mmviz_render_stays_light():
    import subprocess
    import sys
    code = ("import sys, mmviz, mmviz.render, mmviz.cli.main; "
            "heavy = [m for m in ('matplotlib', 'pygments', 'graphviz') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
