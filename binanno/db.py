"""The old home of the answer store: ``binanno.db`` is :mod:`binanno.components.db` itself."""

from __future__ import annotations

import sys

from .components import db

sys.modules[__name__] = db
