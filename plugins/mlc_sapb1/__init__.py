"""The SAP Business One plugin (entry point ``sapb1``): Service Layer session, change sources,
sinks and matchers. It imports only the public API of the core (``hub.__all__``).
"""
