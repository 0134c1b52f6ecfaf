"""Records as JSON for ``--format json`` output."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if hasattr(value, "items"):
        return dict(value.items())
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Pretty JSON of records, mappings and lists of them."""
    return json.dumps(value, default=_default, ensure_ascii=False, indent=2)


def line(value: Any) -> str:
    """Compact JSON on one line (for NDJSON output)."""
    return json.dumps(
        value, default=_default, ensure_ascii=False, separators=(",", ":")
    )
