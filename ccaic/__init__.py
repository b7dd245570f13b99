"""ccaic: the Collective Constitutional AI compiler."""

__version__ = "0.1.0"
