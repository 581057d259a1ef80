"""How modelled functions announce themselves: one decorator, one structured emit.

Kernel-mirror functions are decorated with `kernel_function(source, faithfulness)`. The
decorator keeps the running task's call stack (always: lock helpers and the lock checker
name the current function from it, as lockdep names the caller) and emits `call` and
`return` events. Events carry a kind, the current function, a short `what` tag and plain
fields; the sentences that explain them live outside the model (mmviz/render/narration.py).
When no hook is installed an emit costs one attribute test.
"""

import functools

from .errno import is_err, Errno

FAITHFULNESS = ("faithful", "simplified", "stub")


def _world_of(args):
    for a in args:
        w = getattr(a, "world", None)
        if w is not None:
            return w
        if isinstance(a, (list, tuple)) and a:     # e.g. free_pgtables(vmas)
            w = getattr(a[0], "world", None)
            if w is not None:
                return w
    return None


def describe_return(value):
    """A return value as the trace shows it: '-ENOMEM', '0x10000000', '0', 'True', 'vma#3'."""
    if isinstance(value, tuple):
        return ", ".join(describe_return(v) for v in value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if is_err(value):
            return Errno.name_of(value)
        return hex(value) if value > 4096 else str(value)
    label = getattr(value, "label", None)
    return label if label is not None else type(value).__name__


def kernel_function(source: str, faithfulness: str = "faithful", quiet: bool = False):
    """Mark fn as the model of the kernel function of the same name in `source`.

    faithfulness: "faithful" (the kernel's behaviour, step for step), "simplified" (the
    behaviour that matters to VMAs and locks; the docstring says what is left out) or
    "stub" (returns what the kernel would in the cases the model reaches, does nothing
    else), as tools/testing/vma labels its stubs. A quiet function is on the call stack
    but emits no call/return events (predicates called in loops, inlined helpers).
    """
    if faithfulness not in FAITHFULNESS:
        raise ValueError(f"faithfulness must be one of {FAITHFULNESS}")

    def decorate(fn):
        fn.__kernel_source__ = source
        fn.__faithfulness__ = faithfulness
        fn.__doc__ = ((fn.__doc__ or "").rstrip() + f"\n\nMirrors {fn.__name__}() in {source} "
                      f"({faithfulness}).").lstrip()
        name = fn.__name__

        @functools.wraps(fn)
        def _kernel_call(*args, **kwargs):
            world = _world_of(args)
            if world is None:
                return fn(*args, **kwargs)
            stack = world.current.stack
            stack.append(name)
            loud = not quiet and (world.hook is not None or world.sched is not None)
            if loud:
                world.emit("call", "call", source=source)
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                stack.pop()
                raise
            if loud:
                world.emit("return", "return", ret=describe_return(result))
            stack.pop()
            return result

        _kernel_call.__wrapped_kernel__ = fn
        return _kernel_call
    return decorate


def call_hook(world, name, fn, *args):
    """Call a driver callback reached through a function pointer, as a 'hook' event pair."""
    stack = world.current.stack
    stack.append(name)
    world.emit("hook", "hook_enter", phase="enter")
    try:
        result = fn(*args)
    except BaseException:
        stack.pop()
        raise
    world.emit("hook", "hook_exit", phase="exit", ret=describe_return(result))
    stack.pop()
    return result
