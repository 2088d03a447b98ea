"""The old home of the stream modules, kept so that ``binanno.stream.loaders`` and friends still import.

Each name is the module in :mod:`binanno.components` itself (one home, no second copy).
"""

from __future__ import annotations

import sys

from ..components import combine, count, loaders, preprocess, rescore, sorters

for _module in (combine, count, loaders, preprocess, rescore, sorters):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
