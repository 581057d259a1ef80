"""Pictures that do not mislead (issue 12, part 4): each fix, checked on the picture itself."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("matplotlib")

from mmviz import World  # noqa: E402
from mmviz.render.frame import FrameBuilder  # noqa: E402
from mmviz.render.layout import layout_figure  # noqa: E402
from mmviz.scenarios import record  # noqa: E402
from mmviz.trace.snapshot import VmaView  # noqa: E402

A = 0x10000000
P = 4096
SAMPLE_MAPS = """\
55d0c3a00000-55d0c3a01000 r--p 00000000 fe:00 131090 /usr/bin/python3.11
55d0c3a01000-55d0c3a02000 r-xp 00001000 fe:00 131090 /usr/bin/python3.11
55d0c4c5f000-55d0c4d60000 rw-p 00000000 00:00 0 [heap]
7f3a1e200000-7f3a1e228000 r--p 00000000 fe:00 132700 /usr/lib/x86_64-linux-gnu/libc.so.6
7f3a1e228000-7f3a1e3bd000 r-xp 00028000 fe:00 132700 /usr/lib/x86_64-linux-gnu/libc.so.6
7f3a1e3bd000-7f3a1e415000 r--p 001bd000 fe:00 132700 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd4c8e5000-7ffd4c906000 rw-p 00000000 00:00 0 [stack]
7ffd4c9b2000-7ffd4c9b6000 r--p 00000000 00:00 0 [vvar]
7ffd4c9b6000-7ffd4c9b8000 r-xp 00000000 00:00 0 [vdso]
"""


def _texts(fig):
    from matplotlib.text import Text
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _gids(fig):
    return {c.get_gid(): c for ax in fig.axes for c in ax.collections if c.get_gid()}


# --- a VMA that exists but is not in the tree yet is drawn ----------------------------------------

def _inflight_frames():
    t = record("mapped-fail-hidden", kernel="v3")
    built = [e.seq for e in t.events if any(v.inflight for v in e.snapshot.vmas)]
    dead = record("action-fail-hidden", kernel="baseline")
    return [(t, built[0]), (dead, dead.violations[0].seq)]


@pytest.mark.parametrize("which", ["being built", "the deadlock frame"])
def test_an_in_flight_vma_is_drawn(which):
    t, seq = _inflight_frames()[0 if which == "being built" else 1]
    snap = t.events[seq].snapshot
    v = next(v for v in snap.vmas if v.inflight)                 # in the snapshot, not the tree
    fig = layout_figure(snap)
    coll = _gids(fig)
    kind = "special" if v.special else ("file" if v.file else "anon")
    drawn = coll.get(f"mmviz-{kind}-detached") or coll.get(f"mmviz-{kind}")
    assert drawn is not None and len(drawn.get_paths()) >= 1, sorted(coll)
    assert any(f"vma#{v.id}" in x for x in _texts(fig))          # and labelled
    f = FrameBuilder(t, width=7.0).frame(seq)
    assert f"vma#{v.id}" in f.layout_alt and "nothing is mapped" not in f.layout_alt
    # the picture is not blank where the VMA is: count non-white pixels of the PNG
    import io

    import numpy as np
    from PIL import Image
    px = np.asarray(Image.open(io.BytesIO(f.layout_png)).convert("L"))
    assert (px < 200).mean() > 0.05


# --- kernel areas and named anonymous areas have their own style --------------------------------

def test_vdso_vvar_stack_heap_are_not_plain_anonymous():
    from mmviz.render.palette import KINDS, vma_kind
    w = World.from_maps(SAMPLE_MAPS)
    names = {v.id: v.anon_name for v in w.mm.mm_mt if v.anon_name}
    from mmviz.lessons.traces import snapshot_of
    snap = snapshot_of(w)
    kinds = {names.get(v.id, v.file or ""): vma_kind(v, names) for v in snap.vmas}
    assert kinds["[vdso]"] == kinds["[vvar]"] == "kernel"
    assert kinds["[stack]"] == kinds["[heap]"] == "stack"
    # colour and hatch both differ from plain anonymous (colour is never the only code)
    assert KINDS["kernel"][0] != KINDS["anon"][0] and KINDS["kernel"][2] != KINDS["anon"][2]
    assert KINDS["stack"][2] != KINDS["anon"][2]
    fig = layout_figure(snap, names=names, ticks=True)
    coll = _gids(fig)
    assert "mmviz-kernel" in coll and "mmviz-stack" in coll
    legend = " ".join(_texts(fig))
    assert "[vdso]" in legend and "[stack]" in legend


# --- lesson 01's whole-address-space picture ----------------------------------------------------

def test_whole_address_space_has_ticks_no_cut_labels_and_says_log_scale():
    from pathlib import Path
    from mmviz.lessons.traces import snapshot_of
    from mmviz.render._mpl import min_font_px
    w = World.from_maps(SAMPLE_MAPS)
    names = {v.id: v.anon_name for v in w.mm.mm_mt if v.anon_name}
    snap = snapshot_of(w)
    fig = layout_figure(snap, names=names, figsize=(9.6, 5.4), rows=3, ticks=True)
    texts = _texts(fig)
    assert not [t for t in texts if "…" in t], [t for t in texts if "…" in t]
    ticks = [t for t in texts if re.fullmatch(r"0x[0-9a-f]+", t)]
    assert "0x55d0c3a00000" in ticks and len(ticks) >= 3         # rows and stretches say where
    assert min_font_px(fig) >= 11                                 # 8 pt at 100 dpi, no ~9 px
    from mmviz.render.layout_axis import axis_for
    assert axis_for([snap]).scale == "log"
    lesson = (Path(__file__).resolve().parents[1] / "tools" / "lessons"
              / "l01_address_spaces.py").read_text()
    assert "relative sizes" not in lesson and "**log**" in lesson


# --- Compare: one x axis ------------------------------------------------------------------------

def test_compare_draws_both_timelines_on_one_aligned_axis():
    from mmviz.render.timeline import compare_timeline_figure, row_maps
    from mmviz.trace.align import align
    a, b = record("mapped-fail-hidden", kernel="v3"), record("mapped-fail-hidden", kernel="v4")
    rows = align(a, b)
    fig = compare_timeline_figure(a, b, rows)
    axes = [ax for ax in fig.axes if (ax.get_gid() or "").startswith("mmviz-timeline-axes")]
    assert len(axes) == 1                                         # one x axis for both
    ax = axes[0]
    assert ax.get_xlim() == (-0.5, len(rows) - 0.5)
    # the same row is the same x: A's and B's mmap_lock bars both start at the row of their
    # first lock event, which align() put on one row
    ma, mb = row_maps(rows)
    la = next(e.seq for e in a.events if e.kind == "lock")
    lb = next(e.seq for e in b.events if e.kind == "lock")
    assert ma[la] == mb[lb]
    bars = [c for c in ax.collections if (c.get_gid() or "") == "mmviz-lock-mmap_lock"]
    starts = sorted(round(min(v[0] for v in p.vertices), 3) for c in bars for p in c.get_paths())
    assert starts.count(float(ma[la])) == 2                       # A's bar and B's, same x
    # and the v3 violation sits on A's side only
    assert any("A: DOUBLE UNLOCK" in t for t in _texts(fig))


def test_compare_widget_has_one_timeline_and_one_cursor():
    pytest.importorskip("ipywidgets")
    from mmviz.widgets import Compare
    c = Compare(record("mapped-fail-hidden", kernel="v3"),
                record("mapped-fail-hidden", kernel="v4"), prerender=False)
    assert "timeline_a" not in c.panes and "timeline" in c.panes
    c.index = 20
    assert c.panes["cursor"].value.count("class='mmviz-cursor'") == 1
    left = float(re.search(r"left:([\d.]+)%", c.panes["cursor"].value).group(1))
    assert abs(left - c._rows.timeline.cursor_left(20)) < 1e-3
    c.close()


# --- the source pane marks kernel code, not the model's wiring ----------------------------------

def test_source_never_marks_wiring_as_the_current_line():
    from mmviz.render.source import resolve, source_block, source_line, wiring_lines
    for name, kernel in (("mapped-fail-hidden", "v3"), ("action-fail-hidden", "baseline"),
                         ("success-hook-fail", "v4")):
        t = record(name, kernel=kernel)
        for e in t.events:
            kind, fn, fs, _ = resolve(e)
            if kind != "source":
                continue
            line, _ = source_line(e)
            assert line not in wiring_lines(fs) or line == fs.def_line(), (name, e.seq, fs.name,
                                                                          fs.lines[line - fs.start])
            text = fs.lines[line - fs.start]
            assert "emit(" not in text and "_finish_v3(" not in text and "faults." not in text
    # v3's finish: the line shown is in v3's body of mmap_action_finish, not its dispatch
    t = record("mapped-fail-hidden", kernel="v3")
    e = next(e for e in t.events if e.kind == "unlock" and e.snapshot.stack
             and e.snapshot.stack[-1].fn == "mmap_action_finish")
    kind, fn, fs, line = resolve(e)
    assert fs.name == "_finish_v3" and "i_mmap_unlock_write" in fs.lines[line - fs.start]
    html = source_block(e, "p")
    assert "as this kernel version has it" in html and "model wiring" not in html.split(
        "i_mmap_unlock_write", 1)[0].rsplit("\n", 3)[-1]
    mixed = source_block(t.events[36], "q")                       # __mmap_region: step notes
    assert 'class="mmviz-wiring"' in mixed and "◂ model wiring" in mixed


# --- one name per file, long lock names not clipped ------------------------------------------

def test_a_file_has_one_name_in_every_view():
    t = record("mapped-fail-hidden", kernel="v3")
    seq = next(e.seq for e in t.events if e.what == "rmap_linked")
    b = FrameBuilder(t, width=7.0)
    f = b.frame(seq)
    fig = b.geometry.painter().figure(t.events[seq].snapshot)
    label = "\n".join(_texts(fig))
    assert "/mnt/hidden#1" in label and "\nhidden#1" not in label   # the path, as elsewhere
    assert "/mnt/hidden#1" in f.sentence and "/mnt/hidden#1" in f.layout_alt
    assert "i_mmap_rwsem(/mnt/hidden)" in b.timeline.alt


def test_a_long_lock_name_is_wrapped_not_clipped():
    from mmviz.render.timeline import lane_label, timeline_figure
    long = "i_mmap_rwsem(/usr/lib/x86_64-linux-gnu/some-long-library-name.so.6)"
    wrapped = lane_label(long, 30)
    assert wrapped.replace("\n", "") == long and max(map(len, wrapped.split("\n"))) <= 30
    t = record("mapped-fail-hidden", kernel="v3")
    import dataclasses
    lk = "i_mmap_rwsem(/mnt/hidden)"
    t2 = dataclasses.replace(t, events=tuple(
        dataclasses.replace(e, data={**e.data, "lock": long} if e.data.get("lock") == lk
                            else e.data,
                            snapshot=dataclasses.replace(e.snapshot, locks_held=tuple(
                                long if x == lk else x for x in e.snapshot.locks_held)))
        for e in t.events), violations=tuple(dataclasses.replace(v, lock=long)
                                             for v in t.violations))
    fig = timeline_figure(t2, figsize=(7.0, 3.4))
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        for lbl in ax.get_yticklabels():
            box = lbl.get_window_extent(r)
            assert box.x0 >= 0 and box.x1 <= fig.bbox.width, lbl.get_text()
    assert any(lbl.get_text().replace("\n", "") == long for ax in fig.axes
               for lbl in ax.get_yticklabels())


def test_a_vma_state_is_never_colour_alone():
    from mmviz.render.palette import KINDS, layout_swatches
    hatches = [h for _, _, h, _ in KINDS.values()]
    assert len(set(hatches)) == len(hatches)                     # every kind its own hatch
    for s in layout_swatches(KINDS, ("hidden", "locked", "detached", "changed", "unmapped",
                                     "rmap-in", "rmap-out")):
        assert s.label and (s.hatch or s.linestyle != "solid" or s.lw != 1.0 or s.key in
                            ("anon", "rmap-in")), s
