"""Hostile text for the console's tests: markup, bidi overrides, invisible marks."""

from __future__ import annotations

from typing import Any

from cswork import Actor, Case, Engine

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '"><img src=x onerror="window.__pwned = 2">'
QUOTE = "' onmouseover='window.__pwned = 3"
RTL = "\u202eevil.exe\u202c"  # right-to-left override
INVISIBLE = "a\u200bb\u200dc\ufeff"  # zero-width space, joiner, BOM
ALL = (SCRIPT, IMG, QUOTE, RTL, INVISIBLE)
#: A person whose id and unit are hostile too.
HOSTILE_ACTOR = Actor(f"x{IMG}", {"lead", "agent"}, {f"u{SCRIPT}"})


def hostile_case(engine: Engine) -> Case:
    """A desk case whose data, owner, unit, customer and history are hostile."""
    case = engine.start(
        "desk",
        HOSTILE_ACTOR,
        {"customer_id": f"C{IMG}", "summary": SCRIPT + RTL, "owner": HOSTILE_ACTOR.id},
    )
    return engine.fire(case.id, "note", HOSTILE_ACTOR, {"note": " | ".join(ALL)})


def refused_data() -> dict[str, Any]:
    """Form inputs the engine refuses with a message quoting them."""
    return {"owner": "x", "severity": SCRIPT}
