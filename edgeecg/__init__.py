"""edgeecg: arrhythmia reading from phone photos of paper ECGs, on the edge."""

from edgeecg.record import LEADS, Record, RecordError

__version__ = "0.1.0"
__all__ = ["LEADS", "Record", "RecordError", "__version__"]
