"""Exceptions of the model: caller mistakes, model bugs and a hung task."""


class MmvizError(Exception):
    """Base class of every error mmviz raises on purpose."""


class InputError(MmvizError, ValueError):
    """A caller passed something the model cannot take; the message says what is allowed."""


def check_choices(what: str, values, allowed) -> tuple:
    """`values` as a tuple, or an InputError naming the first that is not in `allowed`."""
    values = tuple(values)
    for v in values:
        if v not in allowed:
            raise InputError(f"unknown {what} {v!r}; choose one of " + ", ".join(allowed))
    return values


class ModelBug(MmvizError, AssertionError):
    """A broken model invariant: the VM_BUG_ON of the model."""


class TaskHung(MmvizError, RuntimeError):
    """The modelled task self-deadlocked; the world cannot run further syscalls."""


class Unsupported(MmvizError):
    """What a driver or scenario needs does not exist in the chosen kernel variant.

    `feature` is one of variants.FEATURES; a scenario that raises it ends with the outcome
    "unsupported" (the trace's sentence says what the variant lacks), never with a
    behaviour borrowed from a later kernel.
    """

    def __init__(self, feature: str, kernel: str, driver: str = ""):
        self.feature = feature
        self.kernel = kernel
        self.driver = driver
        super().__init__(f"the {kernel} kernel has no {feature}, which "
                         f"{driver or 'this driver'} needs")
