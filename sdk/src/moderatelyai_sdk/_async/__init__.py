"""The SDK itself: ``_async/`` is written by hand, ``_sync/`` is generated from it by
``sdk/scripts/unasync.py``."""
