"""Checks of a caller's arguments: each raises InputError with one line saying what is allowed."""

from .errors import InputError


def is_int(value) -> bool:
    """An integer that is not a bool (True is an int to Python, never to a C caller)."""
    return isinstance(value, int) and not isinstance(value, bool)


def short(value) -> str:
    """A value for a one-line message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_errno(name, value):
    """A negative errno as the model returns them: an integer in -4095 .. -1."""
    if not is_int(value) or not -4095 <= value <= -1:
        raise InputError(f"{name} must be a negative errno in -4095..-1, like -Errno.ENOMEM "
                         f"(got {short(value)})")
    return value
