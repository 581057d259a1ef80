"""Recording the model: events with shared snapshots, an immutable Trace, its JSON, and queries."""

from .checks import TraceFormatError
from .events import EVENT_KINDS, OUTCOMES, VIOLATION_KINDS, Event, Result, Trace, Violation
from .jsonio import FORMAT, VERSION, trace_from_json, trace_to_json
from .recorder import Recorder, take_snapshot
from .snapshot import Frame, PendingAction, Snapshot, TaskView, VmaView
from .vmaset import VmaSet

__all__ = ["EVENT_KINDS", "OUTCOMES", "VIOLATION_KINDS", "Event", "FORMAT", "Frame",
           "PendingAction", "Recorder", "Result", "Snapshot", "TaskView", "Trace",
           "TraceFormatError",
           "VERSION", "Violation", "VmaSet", "VmaView", "take_snapshot", "trace_from_json",
           "trace_to_json"]
