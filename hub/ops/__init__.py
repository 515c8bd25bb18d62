"""Operations: health checks, Prometheus metrics, JSON logs, alerts and the drift report.

Nothing here is on the data path: these modules read the store through query functions and
the engine's counters, and publish what they find.
"""
