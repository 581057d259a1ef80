"""Checks for trace JSON fields: one-line `TraceFormatError`s, and limits on what is parsed."""

from __future__ import annotations

import re

from ..model.errors import InputError

MAX_BYTES = 64 * 1024 * 1024
# Containers a trace may hold. A 30,000-VMA trace has about 31,000; the cap keeps a file of
# nothing but empty lists from costing gigabytes while it is parsed.
MAX_NODES = 2_000_000
_SURROGATE = re.compile("[\ud800-\udfff]")


class TraceFormatError(InputError):
    """The text is not a trace this version of mmviz can read."""


def check_nodes(text: str):
    """Refuse text with more JSON containers than MAX_NODES before parsing it (brackets inside
    strings count too, so this can only over-count)."""
    n = text.count("[") + text.count("{")
    if n > MAX_NODES:
        raise TraceFormatError(f"trace JSON holds about {n:,} arrays and objects; the limit is "
                               f"{MAX_NODES:,}")


def need(obj, key, types, where):
    if not isinstance(obj, dict) or key not in obj:
        raise TraceFormatError(f"trace JSON: {where} has no '{key}'")
    v = obj[key]
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in
                                    (types if isinstance(types, tuple) else (types,))):
        raise TraceFormatError(f"trace JSON: {where}.{key} has the wrong type ({type(v).__name__})")
    return v


def need_int(obj, key, where, lo, hi) -> int:
    v = need(obj, key, int, where)
    if not lo <= v <= hi:
        raise TraceFormatError(f"trace JSON: {where}.{key} is out of range ({lo}..{hi})")
    return v


def need_opt_int(obj, key, where, lo, hi):
    if obj.get(key) is None:
        return None
    return need_int(obj, key, where, lo, hi)


def check_text(v, where, limit) -> str:
    if not isinstance(v, str):
        raise TraceFormatError(f"trace JSON: {where} must be text")
    if len(v) > limit:
        raise TraceFormatError(f"trace JSON: {where} is longer than {limit} characters")
    if _SURROGATE.search(v):
        raise TraceFormatError(f"trace JSON: {where} holds a lone surrogate (not Unicode text)")
    return v


def need_text(obj, key, where, limit) -> str:
    return check_text(need(obj, key, str, where), f"{where}.{key}", limit)


def need_opt_text(obj, key, where, limit):
    if obj.get(key) is None:
        return None
    return need_text(obj, key, where, limit)


def need_list(obj, key, where, limit=5_000_000) -> list:
    v = need(obj, key, list, where)
    if len(v) > limit:
        raise TraceFormatError(f"trace JSON: {where}.{key} has more than {limit} items")
    return v


_SCALARS = (int, str, bool, type(None))


def _plain_item(x, where):
    if isinstance(x, str):
        return check_text(x, where, 2000)
    if isinstance(x, list) and len(x) <= 16 and all(isinstance(y, _SCALARS) for y in x):
        return [check_text(y, where, 2000) if isinstance(y, str) else y for y in x]
    if isinstance(x, _SCALARS):
        return x
    raise TraceFormatError(f"trace JSON: {where} must be a short list of plain values")


def plain_data(d: dict, where) -> dict:
    """A dict of event fields: text keys, values that are numbers, text, booleans, None, or
    short lists of those or of short lists of those (the only things the model emits)."""
    out = {}
    for k, v in d.items():
        check_text(k, f"{where} key", 80)
        if isinstance(v, list):
            if len(v) > 4096:
                raise TraceFormatError(f"trace JSON: {where}.{k} must be a short list of plain values")
            v = [_plain_item(x, f"{where}.{k}") for x in v]
        elif isinstance(v, str):
            v = check_text(v, f"{where}.{k}", 20000)
        elif isinstance(v, int) and not isinstance(v, bool) and not -(1 << 64) < v < (1 << 64):
            raise TraceFormatError(f"trace JSON: {where}.{k} is out of range")
        elif not isinstance(v, _SCALARS):
            raise TraceFormatError(f"trace JSON: {where}.{k} must be a plain value, not "
                                   f"{type(v).__name__}")
        out[k] = v
    return out
