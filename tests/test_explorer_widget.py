"""The Explorer widget: the exploration table, the schedule menu, a Stepper per schedule."""

import pytest

pytest.importorskip("ipywidgets")

from mmviz.scenarios import get_race  # noqa: E402
from mmviz.scenarios.explore import explore  # noqa: E402
from mmviz.widgets import Explorer  # noqa: E402


@pytest.fixture
def explorer():
    x = Explorer("race-hugetlbfs-truncate", "v3", prerender=False)
    yield x
    x.close()


def test_it_opens_the_shortest_failing_schedule(explorer):
    ex = explore(get_race("race-hugetlbfs-truncate"), "v3")
    first = ex.shortest_failing
    assert explorer.menu.value == first.switch_at
    t = explorer.stepper.trace
    assert t.schedule == first.schedule
    assert any(v.kind == "half-built" for v in t.violations)
    assert "mmviz-chosen" in explorer.table.value and "✖ violation" in explorer.table.value


def test_choosing_a_schedule_replaces_the_stepper(explorer):
    old = explorer.stepper
    explorer.menu.value = None                       # the serial run: nothing goes wrong
    assert explorer.stepper is not old and not explorer.stepper.trace.violations
    assert old.builder is None or old.frame is None  # the old one was closed
    with pytest.raises(ValueError, match="no schedule switches after A's event 999"):
        explorer.choose(999)


def test_another_kernel_explores_again(explorer):
    explorer.kernel.value = "mainline"
    assert explorer.exploration.kernel == "mainline"
    assert explorer.exploration.shortest_failing is None
    assert explorer.menu.value is None and explorer.stepper.trace.kernel == "mainline"
    assert "✖" not in explorer.table.value


def test_race_stepper_has_switch_jumps(explorer):
    s = explorer.stepper
    assert ("switch", +1) in s.jump_buttons
    to = s.jump("switch", +1)
    assert s.trace.events[to].task != s.trace.events[to - 1].task
    assert "mmviz-switch" in s.panes["narration"].value


def test_a_one_task_stepper_has_no_switch_jump():
    from mmviz.scenarios import record
    from mmviz.widgets import Stepper
    s = Stepper(record("anon-new", kernel="v4"), prerender=False)
    try:
        assert ("switch", +1) not in s.jump_buttons and ("hook", +1) in s.jump_buttons
    finally:
        s.close()
