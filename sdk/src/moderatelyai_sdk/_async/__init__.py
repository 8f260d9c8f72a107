"""The async implementation: the single source of the SDK; ``_sync/`` is generated from it."""
