"""How modelled functions announce themselves: one decorator, one emit hook on the world.

The model calls `world.emit(...)` and decorates kernel-mirror functions with
`kernel_function(...)`. When the world has no hook installed both cost one attribute
test; the model never learns whether anything is listening.
"""

import functools

from .errno import is_err, Errno


def _world_of(args):
    for a in args:
        w = getattr(a, "world", None)
        if w is not None:
            return w
    return None


def describe_return(value):
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

    faithfulness is "faithful", "simplified" or "stub" (DESIGN §1). A quiet function is
    still on the call stack but does not emit call/return events (predicates called in loops).
    """
    def decorate(fn):
        fn.__kernel_source__ = source
        fn.__faithfulness__ = faithfulness
        fn.__doc__ = ((fn.__doc__ or "").rstrip() + f"\n\nMirrors {fn.__name__}() in {source} "
                      f"({faithfulness}).").lstrip()

        @functools.wraps(fn)
        def _kernel_call(*args, **kwargs):
            world = _world_of(args)
            if world is None or world.hook is None:
                return fn(*args, **kwargs)
            name = fn.__name__
            world.stack.append(name)
            if not quiet:
                world.emit("call", name, f"{name}() called", source=source)
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                world.stack.pop()
                raise
            if not quiet:
                world.emit("return", name, f"{name}() returns {describe_return(result)}",
                           ret=describe_return(result))
            world.stack.pop()
            return result

        _kernel_call.__wrapped_kernel__ = fn
        return _kernel_call
    return decorate


def call_hook(world, name, fn, *args):
    """Call a driver callback reached through a function pointer, as a 'hook' event pair."""
    if world.hook is None:
        return fn(*args)
    world.stack.append(name)
    world.emit("hook", name, f"calling {name}", phase="enter")
    try:
        result = fn(*args)
    except BaseException:
        world.stack.pop()
        raise
    world.emit("hook", name, f"{name} returned {describe_return(result)}", phase="exit",
               ret=describe_return(result))
    world.stack.pop()
    return result
