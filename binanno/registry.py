"""The old home of the recipe registry: ``binanno.registry`` is :mod:`binanno.core` itself."""

from __future__ import annotations

import sys

from . import core

sys.modules[__name__] = core
