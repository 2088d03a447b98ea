"""binanno: a Prodigy-style annotation server built on binary decisions.

The public API a recipe uses (the built-in recipes use nothing else), with the names Prodigy
exports at its top level, so that ``import binanno as prodigy`` serves a Prodigy user's recipe.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .cli import serve
from .components.db import Database, connect
from .components.loaders import get_stream
from .core import Arg, command, recipe, recipe_args
from .errors import UserError
from .hashing import set_hashes
from .protocols import ControllerComponentsDict
from .util import get_labels, log, msg, split_string

__all__ = ["Arg", "ControllerComponentsDict", "Database", "UserError", "__version__", "command", "connect", "get_labels",
           "get_stream", "log", "msg", "recipe", "recipe_args", "serve", "set_hashes", "split_string"]
