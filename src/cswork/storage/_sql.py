"""SQL shared by the SQL backends (values are always parameters)."""

from __future__ import annotations

from typing import Any

from cswork.records import CaseQuery


def where(query: CaseQuery, mark: str) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause for ``query`` with ``mark`` placeholders, and its values."""
    closed = None if query.closed is None else int(query.closed)
    filters = {"workflow_id": query.workflow_id, "state": query.state,
               "customer": query.customer, "closed": closed}  # fmt: skip
    clauses = [f"{column} = {mark}" for column, v in filters.items() if v is not None]
    params = [v for v in filters.values() if v is not None]
    if query.breached is not None:
        clauses.append("breaches > 0" if query.breached else "breaches = 0")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
