"""copytrader: keeps followers' clones of master bots in step through a partner API."""

__version__ = "0.1.0"
