"""A local emulator of the SAP Business One Service Layer (OData v4, ``/b1s/v2/``)."""

__version__ = "0.1.0"
