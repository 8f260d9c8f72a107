"""One module per block type; importing this package registers them all.

Modules are discovered, not listed: adding a block type is adding one module here.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
