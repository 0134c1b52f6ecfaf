"""The ``cswork`` command line: parse, call the public API, print. No rules here.

Exit codes: 0 = fine, 1 = problems found (invalid files, refused steps),
2 = usage error (bad arguments, bad store URL).
"""

from __future__ import annotations

import typer

from cswork.cli import (
    case,
    console,
    diagram,
    explain,
    report,
    run,
    sample,
    simulate,
    validate,
)

app = typer.Typer(
    name="cswork",
    help="Customer-service SOPs as state machines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
validate.register(app)
simulate.register(app)
run.register(app)
explain.register(app)
case.register(app)
report.register(app)
sample.register(app)
diagram.register(app)
console.register(app)


def main() -> None:
    """Entry point of the ``cswork`` console script."""
    app()
