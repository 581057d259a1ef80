"""One palette and one legend for every picture and page mmviz draws.

The layout, the lock timeline, the call graph, the source pane, the narration HTML, the
widgets and the offline stepper all take their colours, hatches, outline styles and legend
words from here, so a colour means the same thing everywhere:

| colour (Okabe–Ito)  | means                                        | never colour alone: also |
| ---                 | ---                                          | ---                      |
| sky blue            | anonymous memory (VMAs; the anon_vma lock)   | plain fill / its lane    |
| sky blue, "--"      | [stack] and [heap]: anonymous, with a name   | horizontal hatch         |
| black on grey, ".." | [vdso] [vvar] [vsyscall]: the kernel's own   | dotted hatch             |
| orange              | files and drivers (file VMAs; hook calls)    | "//" hatch / ◆ marker    |
| reddish purple      | VM_SPECIAL VMAs (never merge); the hugetlb VMA lock | "xx" hatch / its lane |
| bluish green        | the rmap lock: i_mmap_rwsem, hidden from rmap | "o" hatch, dotted outline |
| blue                | a VMA's write lock                           | thick outline            |
| vermillion          | what this step changed; an error             | halo + ▼; ✖ marker       |
| yellow              | "now": the current call, the current line    | thick black outline      |
| red (not Okabe–Ito) | a lock-rule violation, and only that         | big ✖ and a headline     |

Okabe & Ito (2008), "Color Universal Design": eight colours told apart by readers with the
common colour-vision deficiencies. Standard library only: importing this module imports
nothing heavy; the matplotlib legend handles are built by the picture modules from
`Swatch` records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#8C8C8C",
}
C = OKABE_ITO

INK = "#1a1a1a"              # text
MUTED = "#555555"            # secondary text, break labels
FAINT = "#b0b0b0"            # baselines
VIOLATION = "#D00000"        # the one pure red: reserved for lock-rule violations
NOW = C["yellow"]            # the current call (call graph) and line (source)
NOW_PATH = "#FFF9C4"         # the calls on the way to it
NOW_OUTLINE = "#000000"
CURSOR = "#000000"           # the timeline's cursor line and ▼
DARK = "#333333"             # dark outlines, marks and badges
LIGHT_GREY = "#d9d9d9"       # the kernel's own areas; what a view shows only as context


# --- VMAs ------------------------------------------------------------------------------------

#: Base kinds: (fill, edge/hatch colour, hatch, legend text)
KINDS = {
    "anon": (C["sky"], "#1f5f85", "", "anonymous"),
    "stack": (C["sky"], "#0b3c5d", "--", "[stack] / [heap]"),
    "kernel": (LIGHT_GREY, C["black"], "..", "[vdso] / [vvar] (kernel's)"),
    "file": (C["orange"], "#7a5200", "//", "file-backed"),
    "special": (C["purple"], "#6e2f58", "xx", "VM_SPECIAL (never merges)"),
}
#: Names of areas the kernel maps into every process itself (not user memory).
KERNEL_AREAS = frozenset({"[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]",
                          "[sigpage]", "[vectors]"})
#: Anonymous areas with a name of their own.
STACK_AREAS = frozenset({"[stack]", "[heap]"})
HIDDEN_STYLE = dict(edge=C["green"], hatch="o", linestyle=(0, (1.2, 1.2)), lw=2.4,
                    label="hidden from rmap")
LOCKED_STYLE = dict(edge=C["blue"], lw=3.2, label="write-locked")
DETACHED_STYLE = dict(alpha=0.33, linestyle=(0, (4, 2)), label="detached (in flight)")
CHANGED_STYLE = dict(edge=C["vermillion"], lw=3.5, label="changed by this step")
UNMAPPED_STYLE = dict(edge="#9a9a9a", linestyle=(0, (1, 2)), label="unmapped")
#: The strip under a file-backed VMA: filled when the VMA is in its file's i_mmap (rmap
#: walkers can find it), a dashed empty outline when it is not (yet).
RMAP_IN_STYLE = dict(face=C["orange"], edge="#555555", label="in file's i_mmap (strip)")
RMAP_OUT_STYLE = dict(face="#ffffff", edge="#555555", linestyle=(0, (2, 2)),
                      label="not in i_mmap (dashed)")


def vma_kind(v, names=None) -> str:
    """'special', 'file', 'kernel' ([vdso], [vvar], ...), 'stack' ([stack], [heap]) or
    'anon': the base look of a VMA's box. names: {vma id: name} (a maps file's names)."""
    if v.special:
        return "special"
    if v.file:
        return "file"
    name = names.get(v.id) if names else None
    if name:
        if name in KERNEL_AREAS:
            return "kernel"
        if name in STACK_AREAS or name.startswith("[stack"):
            return "stack"
    return "anon"


# --- locks, hooks, errors ---------------------------------------------------------------------

LOCK_COLOURS = {
    "mmap_lock": "#4d4d4d",        # neutral: the lock every step here holds
    "i_mmap_rwsem": C["green"],    # the rmap lock ("hidden from rmap" in the layout)
    "vma_lock": C["blue"],         # a VMA's write lock (its blue outline in the layout)
    "anon_vma": C["sky"],          # anonymous memory's rmap lock (anonymous = sky)
    "hugetlb_vma_lock": C["purple"],  # a hugetlb VMA's own lock (hugetlb VMAs are VM_SPECIAL)
    "other": C["grey"],
}
LOCK_LABELS = {"mmap_lock": "mmap_lock", "i_mmap_rwsem": "i_mmap_rwsem",
               "vma_lock": "VMA write lock", "anon_vma": "anon_vma lock",
               "hugetlb_vma_lock": "hugetlb VMA lock", "other": "other lock"}
READ_HATCH = "////"                # a lock held for read: white with hatching
#: A task waiting for a lock (several tasks): the lock's colour as a dotted outline around
#: a dotted fill, never solid, so a wait is never read as a hold.
WAIT_STYLE = dict(face="#ffffff", hatch="..", linestyle=(0, (1.5, 1.5)), lw=1.6)
RUN_COLOUR = DARK                  # a task's "runs" lane: the stretches it has the CPU
HOOK_COLOUR = C["orange"]          # driver code (orange = files and drivers)
HOOK_EDGE = "#7a5200"
ERROR_COLOUR = C["vermillion"]
WARN_COLOUR = C["yellow"]


# --- the rmap view (render/rmap_view.py): what a walk from one page visits ---------------------

#: Each state is a colour and a hatch or outline, named in the legend.
RMAP_VISIT_STYLES = {
    "mapped": dict(face=C["green"], edge=DARK, hatch="xx", lw=2.0, ls="-",
                   label="visited: maps the page (★)"),
    "visited": dict(face=C["sky"], edge=C["blue"], hatch="//", lw=1.4, ls="-",
                    label="visited: the page is not mapped here (○)"),
    "context": dict(face=LIGHT_GREY, edge=C["grey"], hatch="", lw=0.8, ls=(0, (3, 2)),
                    label="not visited"),
}
RMAP_PAGE_MARK = C["vermillion"]     # the page the walk starts from (▲)
RMAP_OWN_ANON_VMA = C["orange"]      # the page's anon_vma in the tree

# --- HTML: kind badges, banners ---------------------------------------------------------------

KIND_COLOURS = {"call": "#444444", "return": "#444444", "lock": "#006e4f", "unlock": "#006e4f",
                "hook": HOOK_EDGE, "vma": "#a34400", "error": "#a34400", "warn": "#7a6a00",
                "note": "#666666", "violation": VIOLATION}
STEP_BADGE = DARK
OK_TEXT = "#006e4f"
BAD_TEXT = VIOLATION
BANNER_NOW = dict(background="#fdecea", border=VIOLATION, text="#7a0000")
BANNER_EARLIER = dict(background="#fff6e5", border=C["orange"], text="#4d3400")
FAITH_COLOURS = {"faithful": "#006e4f", "simplified": "#8a5a00", "stub": "#a03000"}


# --- the legend ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Swatch:
    """One legend entry, drawable by matplotlib (a patch or a marker) or as HTML."""

    key: str
    label: str
    face: str = "#ffffff"
    edge: str = "#555555"
    hatch: str = ""
    linestyle: object = "solid"
    lw: float = 1.0
    alpha: float = 1.0
    marker: str = ""               # a marker ("X", "^", "D", "v") instead of a patch


def layout_swatches(kinds=(), states=()) -> list:
    """The layout legend for these kinds (of KINDS) and states, in a fixed order. States:
    hidden, locked, detached, changed, unmapped, rmap-in, rmap-out."""
    out = []
    for k in KINDS:
        if k in kinds:
            face, edge, hatch, text = KINDS[k]
            out.append(Swatch(k, text, face, edge, hatch))
    s = set(states)
    if "hidden" in s:
        out.append(Swatch("hidden", HIDDEN_STYLE["label"], edge=HIDDEN_STYLE["edge"],
                          hatch=HIDDEN_STYLE["hatch"], linestyle=HIDDEN_STYLE["linestyle"], lw=1.8))
    if "locked" in s:
        out.append(Swatch("locked", LOCKED_STYLE["label"], edge=LOCKED_STYLE["edge"], lw=2.4))
    if "detached" in s:
        out.append(Swatch("detached", DETACHED_STYLE["label"], face="#999999",
                          linestyle=DETACHED_STYLE["linestyle"], alpha=DETACHED_STYLE["alpha"]))
    if "changed" in s:
        out.append(Swatch("changed", CHANGED_STYLE["label"], edge=CHANGED_STYLE["edge"], lw=2.6))
    if "unmapped" in s:
        out.append(Swatch("unmapped", UNMAPPED_STYLE["label"], edge=UNMAPPED_STYLE["edge"],
                          linestyle=UNMAPPED_STYLE["linestyle"]))
    if "rmap-in" in s:
        out.append(Swatch("rmap-in", RMAP_IN_STYLE["label"], RMAP_IN_STYLE["face"],
                          RMAP_IN_STYLE["edge"]))
    if "rmap-out" in s:
        out.append(Swatch("rmap-out", RMAP_OUT_STYLE["label"], RMAP_OUT_STYLE["face"],
                          RMAP_OUT_STYLE["edge"], linestyle=RMAP_OUT_STYLE["linestyle"]))
    return out


def vma_states(v, highlight=()) -> set:
    """The legend states one VMA shows (see layout_swatches)."""
    out = set()
    if v.hidden:
        out.add("hidden")
    if v.write_locked:
        out.add("locked")
    if v.detached:
        out.add("detached")
    if v.id in highlight:
        out.add("changed")
    if v.file and not v.detached:
        out.add("rmap-in" if v.rmap else "rmap-out")
    return out


def timeline_swatches(families=(), *, read=False, hooks=False, errors=False, warnings=False,
                      violations=False, runs=False, waits=False) -> list:
    """The lock-timeline legend: the lock families present, then the marks used."""
    out = [Swatch(f, LOCK_LABELS[f], LOCK_COLOURS[f], LOCK_COLOURS[f])
           for f in ("mmap_lock", "i_mmap_rwsem", "vma_lock", "anon_vma", "hugetlb_vma_lock")
           if f in families]
    if read:
        out.append(Swatch("read", "held for read", "#ffffff", "#4d4d4d", READ_HATCH))
    if runs:
        out.append(Swatch("run", "task runs", RUN_COLOUR, RUN_COLOUR))
    if waits:
        out.append(Swatch("wait", "task waits for it", WAIT_STYLE["face"], "#4d4d4d",
                          WAIT_STYLE["hatch"], WAIT_STYLE["linestyle"], WAIT_STYLE["lw"]))
    if hooks:
        out.append(Swatch("hook", "hook running", HOOK_COLOUR, HOOK_EDGE))
    if errors:
        out.append(Swatch("error", "error", ERROR_COLOUR, "#000000", marker="X"))
    if warnings:
        out.append(Swatch("warning", "warning", WARN_COLOUR, "#000000", marker="^"))
    if violations:
        out.append(Swatch("violation", "lock violation", VIOLATION, VIOLATION, marker="X"))
    return out


def swatch_html(s: Swatch) -> str:
    """A legend entry as a small inline HTML box and its label (for HTML legends)."""
    import html
    style = (f"display:inline-block;width:1.6em;height:0.9em;vertical-align:middle;"
             f"background:{s.face};border:{max(1, round(s.lw))}px "
             f"{'dashed' if s.linestyle not in ('solid', None) else 'solid'} {s.edge};"
             f"opacity:{s.alpha}")
    return (f"<span class='mmviz-swatch' data-key='{html.escape(s.key)}'>"
            f"<span style='{style}'></span> {html.escape(s.label)}</span>")


# --- identity -------------------------------------------------------------------------------------

def palette_dict() -> dict:
    """Every colour and style above, as plain data (embedded by views, compared by tests)."""
    return {"okabe_ito": OKABE_ITO, "kinds": KINDS, "hidden": HIDDEN_STYLE,
            "locked": LOCKED_STYLE, "detached": DETACHED_STYLE, "changed": CHANGED_STYLE,
            "unmapped": UNMAPPED_STYLE, "rmap_in": RMAP_IN_STYLE, "rmap_out": RMAP_OUT_STYLE,
            "locks": LOCK_COLOURS, "hook": HOOK_COLOUR, "error": ERROR_COLOUR,
            "warn": WARN_COLOUR, "violation": VIOLATION, "now": NOW, "now_path": NOW_PATH,
            "cursor": CURSOR, "kind_badges": KIND_COLOURS,
            "legend": [asdict(s) for s in layout_swatches(KINDS, ("hidden", "locked", "detached",
                                                                  "changed", "unmapped", "rmap-in",
                                                                  "rmap-out"))]}


def palette_id() -> str:
    """A short fingerprint of the palette: two views showing the same id use the same colours."""
    text = json.dumps(palette_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
