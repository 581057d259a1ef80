"""The alignment of two traces lives in `mmviz.trace.align` (the offline compare page of
`mmviz.render` uses it too); re-exported here for the widgets and older imports."""

from ..trace.align import STATUSES, Row, align, differences, last_at_or_before, summary  # noqa: F401
