"""The ``cswork`` command line: parse, call the public API, print. No rules here.

Exit codes: 0 = fine, 1 = problems found (invalid files, refused steps),
2 = usage error (bad arguments, bad store URL, a missing store file, an
unknown workflow or state).

Start-up is kept short: each command's module (and with it the engine, the
definition models, rich…) is imported only when that command runs;
``cswork --help`` lists the commands from the table below without importing
any of them.
"""

from __future__ import annotations

from importlib import import_module

import typer
from typer.core import TyperGroup

try:  # newer typer vendors click; TyperGroup's methods take its classes
    from typer import _click as click
except ImportError:  # pragma: no cover - typer before it vendored click
    import click  # type: ignore[no-redef]

#: Command → (module that registers it, one-line help for ``cswork --help``).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "cswork.cli.validate",
        "Check workflow and calendar files; print every problem found.",
    ),
    "simulate": (
        "cswork.cli.simulate",
        "Generate realistic traffic, run it on a virtual clock, print the report.",
    ),
    "demo": (
        "cswork.cli.simulate",
        "A month of traffic on a SQLite file, the report, and one breached case.",
    ),
    "run": (
        "cswork.cli.run",
        "Run deadlines: wake at each due time, fire it, escalate.",
    ),
    "explain": (
        "cswork.cli.explain",
        "Show how a timer's due time was derived (calendar segments, days skipped).",
    ),
    "case": (
        "cswork.cli.case",
        "Start cases, fire events, and look at cases in a store.",
    ),
    "customer": (
        "cswork.cli.customer",
        "A customer's file: their cases across workflows, newest first, open deadlines.",
    ),
    "report": (
        "cswork.cli.report",
        "Quality indicators against their targets, per period, person, unit, channel.",
    ),
    "sample": (
        "cswork.cli.sample",
        "A reproducible random sample of closed cases per person or unit.",
    ),
    "diagram": (
        "cswork.cli.diagram",
        "Draw a workflow: Mermaid stateDiagram-v2, Graphviz DOT, SVG or PNG.",
    ),
    "schema": (
        "cswork.cli.diagram",
        "Print the JSON Schema of the YAML format (draft-07, for editors).",
    ),
    "types": (
        "cswork.cli.types",
        "Write a TypedDict of a workflow's fields, for typed case data.",
    ),
    "console": (
        "cswork.cli.console",
        "Serve the web console (queues, cases, workflows, indicators) for one person.",
    ),
}


class LazyGroup(TyperGroup):
    """The root command: subcommands are imported when they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: D102
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module = import_module(where[0])
        one = typer.Typer()
        module.register(one)
        return typer.main.get_group(one).get_command(ctx, cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Plain help from the table: listing the commands imports none of them."""
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_options(ctx, formatter)  # the commands too (click's Group)

    def format_commands(  # noqa: D102
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


app = typer.Typer(
    name="cswork",
    cls=LazyGroup,
    help="Customer-service SOPs as state machines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """Customer-service SOPs as state machines."""


def main() -> None:
    """Entry point of the ``cswork`` console script."""
    app()
