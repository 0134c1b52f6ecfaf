"""CSRF protection: a signed token per browser session and person.

The console keeps no sessions of its own, so the browser carries one: a
random session id in a cookie (``HttpOnly``, ``SameSite=Strict``, limited to
the console's path). Every form carries ``HMAC-SHA256(secret, session id,
person)``; a POST is accepted only when the token in the form matches the
cookie it came with and the person now looking. Another site can make a
browser send the cookie, but it cannot read it, so it cannot compute the
token; ``SameSite=Strict`` and the ``Origin`` check refuse such requests
earlier still. The signing is the standard library's ``hmac``; the
comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

COOKIE = "cswork_console_session"
FIELD = "_csrf"


def new_secret() -> bytes:
    """A fresh random signing key (tokens die with it: pass one to keep them)."""
    return secrets.token_bytes(32)


def new_session() -> str:
    """A fresh random session id for the cookie."""
    return secrets.token_urlsafe(24)


def token(secret: bytes, session: str, person: str) -> str:
    """The form token of a session and a person."""
    message = f"{len(session)}:{session}:{person}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def valid(secret: bytes, session: str | None, person: str, given: str | None) -> bool:
    """Does the form's token belong to this session cookie and this person?"""
    if not session or not given:
        return False
    return hmac.compare_digest(token(secret, session, person), given)


def same_origin(origin: str | None, host: str | None) -> bool:
    """Is a request's ``Origin`` header absent, or naming the host it was sent to?

    Browsers send ``Origin`` with every cross-site POST; another host there
    is a forged request. The scheme is not compared: behind a proxy that
    ends TLS the console sees http while the browser says https. (An absent
    header is left to the token check.)
    """
    if origin is None:
        return True
    if origin == "null" or host is None:
        return False
    return urlsplit(origin).netloc.lower() == host.lower()
