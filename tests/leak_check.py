"""Did a lesson print a question's answer before asking it? (used by tests/test_notebooks.py)

An executed notebook's outputs are read as text: streams, text/plain, text/html with its tags
removed, and the widgets a cell displayed (their saved state: every string value of the
widget and of the widgets under it, e.g. a Stepper's header "mmap returns -ENOMEM"). A
question leaks when a cell before the one that asks it mentions the question's scenario (in
its source or its outputs) and its outputs match one of the question's `leaks` patterns
(its return value, errno or VMA count written out), whatever kernel they name: the same
answer printed for another version of the scenario gives it away too.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")


def _widget_text(state: dict, model_id: str, seen=None) -> list:
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    out = []
    for value in (state[model_id].get("state") or {}).values():
        items = value if isinstance(value, list) else [value]
        for v in items:
            if isinstance(v, str):
                if v.startswith("IPY_MODEL_"):
                    out += _widget_text(state, v[len("IPY_MODEL_"):], seen)
                elif not v.startswith(("data:", "blob:")) and len(v) < 200_000:
                    out.append(v)
    return out


def cell_texts(nb) -> list:
    """[(cell index, source, output text)] of every code cell of an executed notebook."""
    meta = nb.get("metadata", {}).get("widgets", {})
    state = meta.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        parts = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                parts.append(o.get("text", ""))
            data = o.get("data", {})
            for mime in ("text/plain", "text/html"):
                if mime in data:
                    text = data[mime] if isinstance(data[mime], str) else "".join(data[mime])
                    parts.append(html.unescape(_TAG.sub(" ", text)))
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view:
                parts += [html.unescape(_TAG.sub(" ", t))
                          for t in _widget_text(state, view.get("model_id", ""))]
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        out.append((i, src, "\n".join(parts)))
    return out


def leaks(nb, questions, asked_in: int) -> list:
    """Sentences naming every question whose answer a cell before `asked_in` printed."""
    found = []
    for q in questions:
        if not q.leaks:
            continue
        name = re.compile(r"(?<![\w-])" + re.escape(q.scenario) + r"(?![\w-])")
        for i, src, text in cell_texts(nb):
            if i >= asked_in:
                break
            if not (name.search(src) or name.search(text)):
                continue
            hit = next((p for p in q.leaks if re.search(p, text)), None)
            if hit:
                found.append(f"cell {i} prints the answer of {q.prompt!r} "
                             f"({q.answer!r} matches {hit!r})")
                break
    return found
