"""Named, deterministic scenarios (the catalog) and the function that records one."""

from .base import Scenario, run
from .catalog import SCENARIOS, get, names


def record(name: str, kernel: str = "v4", nommu: bool = False, validate: bool = False,
           prefill: int = 0):
    """Run catalog scenario `name` under `kernel` and return its Trace (see `run` for
    `prefill`, a big unrelated address space around the scenario)."""
    return run(get(name), kernel=kernel, nommu=nommu, validate=validate, prefill=prefill)


__all__ = ["SCENARIOS", "Scenario", "get", "names", "record", "run"]
