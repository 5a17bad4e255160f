"""`python -m app`: the same as the `ai-session` command."""

from app.cli import main

raise SystemExit(main())
