"""The time zones and holiday countries a calendar may name.

A calendar's ``timezone`` is looked up as a file by ``zoneinfo`` and its
``country`` as an attribute of the ``holidays`` package, so a name such as
``../../etc/passwd`` or ``__class__`` reaches places it should not, and fails
with whatever error the library raises there. A name is therefore accepted
only when it is on the list the library itself publishes: the IANA zone keys
(``zoneinfo.available_timezones()``, plus ``UTC``) and the countries of
``holidays.list_supported_countries()``.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from cswork.hints import Refusal, did_you_mean

# Debian ships these in the zone directory; they are links to the machine's
# own setting, not IANA zones, and would make a calendar mean different
# things on different machines.
_NOT_ZONES = frozenset({"localtime", "posixrules"})


@cache
def zone_names() -> frozenset[str]:
    """Every time zone key a calendar may name."""
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES) | {"UTC"}


@cache
def country_codes() -> frozenset[str]:
    """Every country code the ``holidays`` package supports (ISO 3166 and aliases)."""
    try:
        # The registry knows the codes without importing every country's
        # module (about 300 imports, a sixth of a second at start-up).
        from holidays.registry import EntityLoader

        return frozenset(EntityLoader.get_country_codes(True))
    except (ImportError, AttributeError):  # pragma: no cover - older holidays
        import holidays

        return frozenset(holidays.list_supported_countries())


def check_zone(name: str) -> str:
    """``name`` if it is a known IANA time zone key.

    Raises:
        Refusal: an unknown key, with the closest known one as a hint.
    """
    if name in zone_names():
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
    shown = name if len(name) <= 60 else name[:57] + "..."
    return _refuse(
        f"unknown time zone {shown!r}: use an IANA zone such as Asia/Shanghai",
        did_you_mean(name, zone_names()) if len(name) <= 60 else "",
    )


def check_country(code: str) -> str:
    """``code`` if the ``holidays`` package has that country.

    Raises:
        Refusal: an unknown code, with a hint.
    """
    codes = country_codes()
    if code in codes:
        return code
    shown = code if len(code) <= 20 else code[:17] + "..."
    hint = (
        f"country codes are upper case: {code.upper()!r}"
        if code.upper() in codes
        else did_you_mean(code, codes)
        if len(code) <= 20
        else ""
    )
    return _refuse(
        f"the holidays package has no country {shown!r}: use an ISO 3166 code "
        "such as CN, or null for no public holidays",
        hint,
    )


def _refuse(message: str, hint: str) -> str:
    raise Refusal(message, hint)
