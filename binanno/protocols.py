"""Prodigy's ``prodigy.protocols`` at binanno's path: the types a typed recipe annotates with.

``ControllerComponentsDict`` is what a recipe returns (binanno's :class:`~binanno.types.Components`);
``RecipeEventHookProtocol`` is the signature of an ``event_hooks`` callback.
"""

from __future__ import annotations

from typing import Any, Protocol

from .types import Components

#: Prodigy's name for the dict of components a recipe returns.
ControllerComponentsDict = Components


class RecipeEventHookProtocol(Protocol):
    """An ``event_hooks`` callback: called with the controller and the event's fields as keywords."""

    def __call__(self, ctrl: Any, **kwargs: Any) -> Any: ...


__all__ = ["ControllerComponentsDict", "RecipeEventHookProtocol"]
