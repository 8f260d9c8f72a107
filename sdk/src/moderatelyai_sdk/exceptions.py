"""Public exception classes (see ``moderatelyai_sdk._exceptions`` for the tree)."""

from ._exceptions import *  # noqa: F403
from ._exceptions import __all__ as __all__
