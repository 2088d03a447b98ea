"""Load a spaCy pipeline by the name a user gives: installed, a directory, or ``blank:LANG``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from spacy.language import Language


def load_spacy(spec: str) -> Language:
    """An installed spaCy pipeline, a pipeline directory, or a blank one (``blank:LANG``);
    anything else is a one-line UserError that says what to pass instead."""
    import spacy

    if spec.startswith("blank:"):
        try:
            return spacy.blank(spec.split(":", 1)[1])
        except (ImportError, KeyError, ValueError):
            raise UserError(f"Unknown language in '{spec}': use a language code such as blank:en") from None
    try:
        return spacy.load(spec)
    except OSError:
        raise UserError(f"Can't find spaCy pipeline '{spec}': install it or pass a path or blank:en") from None
    except ImportError as e:  # a pipeline whose components need a package that isn't installed
        raise UserError(f"Can't load spaCy pipeline '{spec}' ({str(e).splitlines()[0][:120]}): install what it "
                        "needs, or pass another pipeline") from None
