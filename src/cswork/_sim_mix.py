"""The simulator's default traffic: shares of workflows and of enum values."""

from __future__ import annotations

#: Shares of the shipped SOPs when they are loaded (an inquiry desk's day).
DEFAULT_MIX = {
    "inquiry": 0.55,
    "complaint": 0.2,
    "repair": 0.2,
    "parts_scrap": 0.03,
    "emergency": 0.02,
    "drill_program": 0.002,
    "review": 0.0,  # reviews start from sampling (cswork sample), not from customers
    "orders": 0.1,
    "routine_problem": 0.15,
    "feedback": 0.05,
    "satisfaction_survey": 0.05,
    "return_visit": 0.02,  # most visits are started by repairs and complaints
}
#: The share of any other workflow a person can start: as common as a complaint.
DEFAULT_SHARE = 0.2
#: Weights of enum values, by field name, where such a field exists.
DEFAULT_ENUMS = {
    "severity": {"general": 0.6, "important": 0.3, "urgent": 0.1},
    "channel": {
        "phone": 0.45,
        "email": 0.3,
        "chat": 0.2,
        "letter": 0.02,
        "fax": 0.01,
        "web_form": 0.02,
    },
}
WALL_CLOCK_WORKFLOWS = frozenset({"emergency"})  # handled around the clock
