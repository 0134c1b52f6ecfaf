"""HTTP details shared by the console's handlers: headers and redirects."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

#: Only the console's own scripts run; plotly.js adds <style> rules as it
#: draws, so styles may be inline (scripts never).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'self'"
)


def secure_headers(response: Response) -> None:
    """Headers every console response carries."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"


def base_of(request: Request) -> str:
    """Where the console is mounted (``""`` at the root)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def link(base: str, path: str, query: dict[str, str] | None = None) -> str:
    """A URL of a console page: ``base`` + ``path`` + the query, encoded."""
    return base + path + ("?" + urlencode(query) if query else "")


def part(text: str) -> str:
    """Text as one URL path segment (slashes, ``?`` and ``#`` encoded)."""
    return quote(text, safe="")


def redirect(request: Request, path: str, query: dict[str, str]) -> RedirectResponse:
    """A 303 to a page of this console (the answer to a successful POST)."""
    response = RedirectResponse(link(base_of(request), path, query), status_code=303)
    secure_headers(response)
    return response
