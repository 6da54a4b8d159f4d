"""Real and simulated ECG sources, each returning `edgeecg.record.Record`s or arrays in its layout."""
