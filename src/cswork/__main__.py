"""``python -m cswork``: the command line."""

from __future__ import annotations

from cswork.cli import main

main()
