"""The demo plugin: a generated source, a customer lookup, an order mapping and two sinks.

It needs no external system, so a new user can watch records move through the hub, be parked
and be replayed; the engine benchmark uses its generator and no-op sink.
"""
