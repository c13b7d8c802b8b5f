"""stridewatch: a monitoring agent for runners."""

__version__ = "0.1.0"
