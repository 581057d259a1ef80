"""Recording the model: events with full snapshots, an immutable Trace, and its JSON form."""

from .events import EVENT_KINDS, VIOLATION_KINDS, Event, Result, Trace, Violation
from .jsonio import FORMAT, VERSION, TraceFormatError, trace_from_json, trace_to_json
from .recorder import Recorder, take_snapshot
from .snapshot import Frame, PendingAction, Snapshot, VmaView

__all__ = ["EVENT_KINDS", "VIOLATION_KINDS", "Event", "FORMAT", "Frame", "PendingAction",
           "Recorder", "Result", "Snapshot", "Trace", "TraceFormatError", "VERSION", "Violation",
           "VmaView", "take_snapshot", "trace_from_json", "trace_to_json"]
