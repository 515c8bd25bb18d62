"""The drift report between SAP Business One and Salesforce (``hub reconcile``).

Enabled with ``[plugins.drift] enabled = true`` beside the ``sapb1`` and ``salesforce``
plugins; it reads both systems through those plugins' clients and compares what the flows of
``hub init --example sapb1-salesforce`` should have made equal.
"""
