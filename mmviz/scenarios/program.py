"""Your own program: a few lines of mmap / munmap / mprotect / touch calls, recorded as a trace.

    from mmviz.scenarios.program import parse_program, run_program
    t = run_program('''
        mmap(base, 4*P, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED)
        mprotect(base + P, P, PROT_READ)
        touch(base)
        munmap(base + 2*P, P)
    ''')                                   # an empty process; or maps=open('/proc/self/maps').read()

The text is parsed, never executed: each line is one call `name(arg, ...)` whose name is a
system call the model's World has (mmap, munmap, mprotect, touch, read, and mremap, madvise,
mlock where the World has them), and whose arguments are whole numbers written as Python
literals (42, 0x1000, 1 << 12) combined with | + - * << and the named constants below
(`PROT_READ|PROT_WRITE`, `MAP_PRIVATE|MAP_ANONYMOUS`, `P` = `PAGE_SIZE` = 4096, `base`). The
parser walks the `ast` of each line and accepts only those forms: no name lookups beyond the
table, no attribute access, no calls inside arguments. A mistake is one `ProgramError` line
("line 2: unknown call 'mmapp'; the calls are mmap, munmap, ..."), never a traceback.

`base` is 0x10000000 in the model and the live window's first address when the program is
checked against the running kernel (`live_check`), so one program runs on both.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..model import uapi
from ..model.errors import InputError

BASE = 0x10000000
CALLS = ("mmap", "munmap", "mprotect", "touch", "read", "mremap", "madvise", "mlock",
         "munlock")
ARITY = {"mmap": (4, 6), "munmap": (2, 2), "mprotect": (3, 3), "touch": (1, 1),
         "read": (1, 1), "mremap": (3, 5), "madvise": (3, 3), "mlock": (2, 2),
         "munlock": (2, 2)}
MAX_LINES = 200


class ProgramError(InputError):
    """A program line the parser cannot read: one sentence, with its line number."""


def constants() -> dict:
    """The names a program may use: PROT_*, MAP_*, MADV_*, MREMAP_*, P, PAGE_SIZE."""
    out = {name: getattr(uapi, name) for name in dir(uapi)
           if name.startswith(("PROT_", "MAP_", "MADV_", "MREMAP_", "MLOCK_"))
           and isinstance(getattr(uapi, name), int)}
    out.update(P=uapi.PAGE_SIZE, PAGE_SIZE=uapi.PAGE_SIZE)
    return out


@dataclass(frozen=True)
class Call:
    """One parsed line: the call's name, its argument expressions, where it came from."""

    name: str
    args: tuple            # ast expression nodes, evaluated against `base` at run time
    line: int
    text: str

    def values(self, base: int) -> tuple:
        return tuple(_value(a, base, self.line) for a in self.args)

    def show(self, base: int) -> str:
        """The call with its numbers, as the trace's narration says it."""
        return f"{self.name}(" + ", ".join(_show(v) for v in self.values(base)) + ")"


def _show(v: int) -> str:
    return f"{v:#x}" if abs(v) >= 4096 else str(v)


_OPS = {ast.BitOr: lambda a, b: a | b, ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.LShift: lambda a, b: a << b if 0 <= b <= 64 else _too_big(),
        ast.BitAnd: lambda a, b: a & b}


def _too_big():
    raise ValueError("a shift of more than 64 bits")


def _value(node, base, line):
    """Evaluate an argument expression of the accepted forms (see the module docstring)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id == "base":
            return base
        table = constants()
        if node.id in table:
            return table[node.id]
        import difflib
        close = difflib.get_close_matches(node.id, list(table) + ["base"], n=3, cutoff=0.6)
        raise ProgramError(f"line {line}: unknown name {node.id!r}; use numbers, base, P and "
                           "constants such as PROT_READ, MAP_SHARED"
                           + (f" (did you mean {', '.join(close)}?)" if close else ""))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _value(node.left, base, line), _value(node.right, base, line)
        try:
            out = _OPS[type(node.op)](a, b)
        except ValueError as e:
            raise ProgramError(f"line {line}: {e}") from None
        if abs(out) >= 1 << 64:
            raise ProgramError(f"line {line}: a number does not fit in 64 bits")
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _value(node.operand, base, line)
        return -v if isinstance(node.op, ast.USub) else v
    what = type(node).__name__
    if isinstance(node, ast.Constant):
        what = f"{type(node.value).__name__} {node.value!r}"
    raise ProgramError(f"line {line}: an argument must be a whole number, a named constant or "
                       f"a sum of them (| + - * << &), not {what}")


def parse_program(text: str, world_calls=None) -> list:
    """The calls of a program, one per non-empty line ('#' starts a comment; ';' separates
    calls on one line). world_calls: the call names allowed (those the World has)."""
    if not isinstance(text, str):
        raise ProgramError(f"a program is text, one call per line (got {type(text).__name__})")
    allowed = tuple(world_calls) if world_calls is not None else available_calls()
    out = []
    pieces = []
    for n, raw in enumerate(text.splitlines(), 1):
        code = raw.split("#", 1)[0].strip()
        for part in code.split(";"):
            if part.strip():
                pieces.append((n, part.strip()))
    if len(pieces) > MAX_LINES:
        raise ProgramError(f"a program has at most {MAX_LINES} calls (this one has "
                           f"{len(pieces)})")
    for n, src in pieces:
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError as e:
            raise ProgramError(f"line {n}: cannot read {src!r} ({e.msg}); write one call per "
                               "line, like munmap(base, 4*P)") from None
        node = tree.body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise ProgramError(f"line {n}: {src!r} is not a call; write one call per line, "
                               "like munmap(base, 4*P)")
        name = node.func.id
        if name not in allowed:
            raise ProgramError(f"line {n}: unknown call {name!r}; the calls are "
                               + ", ".join(allowed))
        if node.keywords:
            raise ProgramError(f"line {n}: {name}() takes its arguments in order, without "
                               "names")
        lo, hi = ARITY[name]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ProgramError(f"line {n}: {name}() takes {want} arguments, not "
                               f"{len(node.args)}")
        call = Call(name, tuple(node.args), n, src)
        call.values(BASE)                      # every argument is checked now, not later
        out.append(call)
    if not out:
        raise ProgramError("the program is empty: write one call per line, like "
                           "mmap(base, 4*P, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|"
                           "MAP_FIXED)")
    return out


def available_calls() -> tuple:
    """The calls this World has (mremap, madvise and mlock where the model has them)."""
    from ..model.world import World
    return tuple(c for c in CALLS if callable(getattr(World, c, None)))


def program_scenario(calls, maps: str | None = None, name: str = "my-program",
                     base: int = BASE, names: dict | None = None):
    """A Scenario whose setup loads `maps` (or nothing) and whose act runs `calls` in order,
    each announced and its result noted in the trace. names: a dict the setup fills with
    {vma id: name} of the named areas it loaded ([heap], [stack], [vdso]...)."""
    from .base import Scenario

    def setup(world):
        if maps:
            from ..model.loader import load_maps
            load_maps(world, maps)
            if names is not None:
                names.update({str(v.id): v.anon_name for v in world.mm.mm_mt if v.anon_name})
        return {}

    def act(world, ctx):
        ret = None
        for c in calls:
            args = c.values(base)
            shown = c.show(base)
            world.emit("note", "program_call", fn="user", call=shown, line=c.line)
            try:
                ret = getattr(world, c.name)(*args)
            except InputError as e:
                world.emit("note", "program_refused", fn="user", call=shown, line=c.line,
                           why=str(e).splitlines()[0][:200])
                ret = None
                continue
            world.emit("note", "program_result", fn="user", call=shown, line=c.line,
                       ret=ret if isinstance(ret, int) else None)
        return ret

    lines = "; ".join(c.text for c in calls)
    where = "in this process's address space" if maps else "in an empty process"
    return Scenario(name, f"Your program ({len(calls)} call{'s' if len(calls) != 1 else ''})",
                    f"{lines} — run {where}.", setup, act)


def run_program(text, maps: str | None = None, kernel: str = "v4", name: str = "my-program"):
    """Parse and record a program (see the module docstring); returns the Trace. The names
    of the areas of `maps` ([heap], [stack], [vdso]...) are kept in the trace's config."""
    from .base import run
    calls = parse_program(text)
    names: dict = {}
    trace = run(program_scenario(calls, maps, name, names=names), kernel=kernel)
    return _with_names(trace, names) if names else trace


def _with_names(trace, names):
    from dataclasses import replace
    from types import MappingProxyType
    return replace(trace, config=MappingProxyType({**trace.config, "vma_names": names}))


def live_script(calls):
    """The program as a script for `mmviz.live.compare(script, world)`: the same calls on
    the model and on the running kernel, with `base` the window's first address."""
    def script(system, base):
        for c in calls:
            fn = getattr(system, c.name, None)
            if fn is None:
                raise ProgramError(f"line {c.line}: the live check cannot run {c.name}() "
                                   "(only mmap, munmap, mprotect and touch)")
            fn(*c.values(base))
    return script


def live_check(text, pages: int = 32, kernel: str = "v4"):
    """Run the program on a fresh model World and, on Linux, in a private window of this
    process (mmviz.live), and return the Comparison of both /proc/self/maps views."""
    from ..live import compare
    from ..model.world import World
    calls = parse_program(text)
    for c in calls:
        if c.name not in ("mmap", "munmap", "mprotect", "touch"):
            raise ProgramError(f"line {c.line}: the live check runs mmap, munmap, mprotect and "
                               f"touch only, not {c.name}()")
    return compare(live_script(calls), World(kernel), pages)
