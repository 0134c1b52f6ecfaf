"""Building blocks shared by the workflow and the calendar models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cswork.durations import DURATION_PATTERN, OFFSET_PATTERN, parse_duration


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=True
    )


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


DurationText = Annotated[
    str,
    Field(
        pattern=DURATION_PATTERN, examples=["30s", "15m", "4h", "1h30m", "2d", "1mo"]
    ),
    AfterValidator(_check_duration),
]


def _check_offset(text: str) -> str:
    parse_duration(text, signed=True)
    return text


#: A duration that may point backwards: ``-1d`` (the offset of an ``at`` deadline).
OffsetText = Annotated[
    str,
    Field(pattern=OFFSET_PATTERN, examples=["-1d", "-2h", "30m"]),
    AfterValidator(_check_offset),
]

# Numbers and flags are taken as written: YAML's `true` is not the number 1,
# `1.0` is not a whole number, and `yes` is text, not a flag.
StrictBool = Annotated[bool, Field(strict=True)]
Count = Annotated[int, Field(strict=True)]
