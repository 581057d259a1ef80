"""Named, deterministic scenarios (the catalog), the races of two tasks, and how to record them."""

from .base import Scenario, run
from .catalog import SCENARIOS, get, names
from .race import Race, TaskPlan, run_race, switch_after
from .races import RACES, get_race, race_names


def record(name: str, kernel: str = "v4", nommu: bool = False, validate: bool = False,
           prefill: int = 0):
    """Record catalog scenario or race `name` under `kernel` and return its Trace (see `run`
    for `prefill`, a big unrelated address space around a scenario)."""
    if name in race_names():
        from ..model.errors import InputError
        if nommu or prefill:
            raise InputError("the races run on an MMU kernel with nothing prefilled; "
                             "drop --nommu/prefill")
        return run_race(get_race(name), kernel, validate=validate)
    return run(get(name), kernel=kernel, nommu=nommu, validate=validate, prefill=prefill)


def all_names() -> list:
    """Every name `record` takes: the catalog, then the races."""
    return names() + race_names()


__all__ = ["RACES", "Race", "SCENARIOS", "Scenario", "TaskPlan", "all_names", "get",
           "get_race", "names", "race_names", "record", "run", "run_race", "switch_after"]
