"""Moderately: the self-hostable Moderately AI platform server."""

__version__ = "0.1.0"
