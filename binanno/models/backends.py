"""Which backend a MODEL argument picks: the one scheme for every recipe.

=====================  ==========================================================
MODEL                  backend
=====================  ==========================================================
``hf:PATH``            Hugging Face: a local model or encoder directory (a new
                       token- or sequence-classification head where it has none)
``sklearn``            text classification only: hashed n-grams and logistic
                       regression trained online; no weights, every label starts at 0.5
``sklearn:PATH``       the same, reloaded from a directory it was saved to
                       (``--output``); a plain PATH to such a directory works too
``blank:LANG``         spaCy: a new, empty pipeline for language LANG
NAME or PATH           spaCy: an installed pipeline or a pipeline directory
=====================  ==========================================================

Any other ``PREFIX:`` is a UserError listing these forms (``C:\\`` and other paths with a
drive letter are paths). A PATH that doesn't exist (anything with a slash, or starting with a dot
or tilde), or a directory that holds a Hugging Face model without the ``hf:`` prefix, is a
UserError that says what to pass instead.

Text classification with spaCy uses the pipeline's ``textcat`` or ``textcat_multilabel``,
and adds one if the pipeline has neither (see textcat_spacy). With ``patterns``, questions
about texts a pattern matches carry the match and ``meta.pattern`` (see textcat_answers).

Settings: each backend declares its settings in its module's ``DEFAULTS``. A setting that
the chosen backend doesn't know but another backend does (``beam_width`` for spaCy's NER,
passed to an ``hf:`` model, say) is dropped, so a recipe can pass its settings whatever
the backend; a setting no backend knows goes through, and the backend's own error names it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from ..errors import UserError

PREFIXES = ("hf", "sklearn", "blank")
FORMS = "an installed spaCy pipeline name or a path, blank:LANG, hf:PATH or sklearn[:PATH] (text classification only)"

# The modules each task's backends live in, for the settings each declares in DEFAULTS.
MODULES = {
    "ner": {"spacy": "spacy_ner", "hf": "hf_ner"},
    "textcat": {"spacy": "textcat_spacy", "sklearn": "textcat_sklearn", "hf": "hf_textcat"},
}


def backend_of(spec: str) -> tuple[str, str]:
    """(backend, what it loads) for a MODEL string: ("hf", PATH), ("sklearn", "sklearn" or PATH) or ("spacy", spec)."""
    if not spec:
        raise UserError(f"No model given: pass {FORMS}")
    match = re.match(r"^([A-Za-z][\w.+-]+):", spec)  # one letter is a drive ("C:\models"), not a prefix
    prefix, rest = (match.group(1), spec[match.end():]) if match else (None, spec)
    if prefix is not None and prefix not in PREFIXES and not Path(spec).exists():
        raise UserError(f"Unknown model prefix '{prefix}:' in '{spec}': pass {FORMS}")
    if prefix in ("hf", "sklearn") and not rest:
        raise UserError(f"'{spec}' names no directory: pass {prefix}:PATH" + (" or just sklearn" if prefix == "sklearn" else ""))
    if prefix == "hf":
        return "hf", rest  # the Hugging Face backend says what is wrong with PATH
    if spec == "sklearn" or prefix == "sklearn":
        if prefix:
            _check_dir(rest)
        return "sklearn", rest if prefix else spec
    if prefix == "blank":
        return "spacy", spec
    from .textcat_sklearn import META_FILE

    path = Path(spec)
    if path.is_dir():
        if (path / META_FILE).is_file():
            return "sklearn", spec
        if (path / "config.json").is_file() and not (path / "config.cfg").is_file():
            raise UserError(f"'{spec}' holds a Hugging Face model: pass hf:{spec}")
    elif _looks_like_path(spec):
        raise UserError(f"Model directory '{spec}' not found: check the path, or pass {FORMS}")
    return "spacy", spec


def load_ner(spec: str, labels: list[str], patterns: Any = None, **settings: Any) -> Any:
    """The NER model for MODEL ``spec`` (see the module docstring), asking about ``labels``.

    ``patterns`` (a PatternMatcher or pattern dicts) propose candidates; ``settings`` are
    the backend's (unknown to it but known to another backend: dropped).
    """
    backend, target = backend_of(spec)
    if backend == "sklearn":
        raise UserError("The sklearn backend classifies whole texts; for NER pass a spaCy pipeline, blank:LANG or hf:PATH")
    settings = settings_for("ner", backend, settings)
    if backend == "hf":
        from .hf_ner import HFNER

        return HFNER.load(target, labels, patterns=patterns, **settings)
    from .spacy_ner import SpacyNER

    return SpacyNER.load(target, labels, patterns=patterns, **settings)


def load_textcat(spec: str, labels: list[str], exclusive: bool = False, patterns: Any = None, **settings: Any) -> Any:
    """The text classifier for MODEL ``spec`` (see the module docstring), asking about ``labels``.

    ``exclusive``: the labels are mutually exclusive. ``patterns`` (a PatternMatcher or
    pattern dicts) mark the questions about texts they match; ``settings`` as for load_ner.
    """
    backend, target = backend_of(spec)
    if exclusive and len(labels) < 2:
        raise UserError("--exclusive needs at least two labels (e.g. --label POSITIVE,NEGATIVE); for one label leave it out")
    settings = settings_for("textcat", backend, settings)
    model: Any
    if backend == "hf":
        from .hf_textcat import HFTextcat

        model = HFTextcat.load(target, labels, exclusive=exclusive, **settings)
    elif backend == "sklearn":
        from .textcat_sklearn import SklearnTextcat

        model = SklearnTextcat.load(target, labels, exclusive=exclusive, **settings)
    else:
        from .textcat_spacy import SpacyTextcat

        model = SpacyTextcat.load(target, labels, exclusive=exclusive, **settings)
    if patterns is not None:
        from .textcat_answers import WithPatterns

        model = WithPatterns(model, patterns, getattr(model, "nlp", None))
    return model


def settings_for(task: str, backend: str, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` minus those the backend doesn't declare but another backend of any task does."""
    own = _defaults(MODULES[task][backend])
    extra = [k for k in settings if own is None or k not in own]
    if not extra:
        return dict(settings)
    others: set[str] = set()
    for modules in MODULES.values():
        for name in modules.values():
            if name != MODULES[task][backend]:
                others |= set(_defaults(name) or ())
    return {k: v for k, v in settings.items() if k not in extra or k not in others}


def _defaults(module: str) -> dict[str, Any] | None:
    """A backend module's DEFAULTS, or None if it has none (or can't be imported here)."""
    try:
        found = importlib.import_module(f"{__package__}.{module}")
    except ImportError:
        return None
    defaults = getattr(found, "DEFAULTS", None)
    return defaults if isinstance(defaults, dict) else None


def _check_dir(path: str) -> None:
    if not Path(path).is_dir():
        raise UserError(f"Model directory '{path}' not found: check the path")


def _looks_like_path(spec: str) -> bool:
    # Installed spaCy pipelines are plain names (en_core_web_sm); anything with a separator,
    # a leading dot or tilde is a path the user meant.
    return "/" in spec or "\\" in spec or spec.startswith((".", "~"))
