"""Measuring what a running task used: the record (``record``)."""
