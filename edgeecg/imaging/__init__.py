"""Paper ECGs as images: render records as printed pages, simulate phone capture, digitize photos back.

numpy + OpenCV only (no torch), so the digitizer runs on the device next to the runtime.
"""
