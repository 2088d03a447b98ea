"""`python -m binanno` is the `binanno` command."""

from .cli import main

raise SystemExit(main())
