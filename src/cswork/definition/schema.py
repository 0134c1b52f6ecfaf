"""The JSON Schema of the YAML format, for editors (yaml-language-server).

Draft-07 compatible (what yaml-language-server supports): one document is a
workflow or a calendar. Put this line at the top of a YAML file to get
completion and error underlining in editors that use yaml-language-server::

    # yaml-language-server: $schema=path/to/cswork.schema.json

The schema checks the shape of a file; the loader checks that too, plus how
its parts refer to each other (unknown states, unreachable states…).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from cswork.definition.model import CalendarDef, Workflow

SCHEMA_ID = "https://cswork.invalid/schema/cswork.schema.json"


def json_schema() -> dict[str, Any]:
    """The schema as a dict."""
    adapter: TypeAdapter[Workflow | CalendarDef] = TypeAdapter(Workflow | CalendarDef)
    schema = adapter.json_schema(ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", {})
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "cswork workflow or calendar",
        "description": "A customer-service SOP (top-level key 'workflow') or a "
        "business calendar (top-level key 'calendar').",
        **schema,
        "definitions": definitions,
    }


def json_schema_text() -> str:
    """The schema as stable, pretty JSON text."""
    return (
        json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    )
