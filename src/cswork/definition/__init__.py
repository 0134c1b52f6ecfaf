"""The process owner's surface: the YAML format, its loader and its checks."""

from __future__ import annotations

from cswork.definition.loader import load_file, load_paths, load_text, yaml_files
from cswork.definition.model import CalendarDef, Deadline, Transition, Workflow
from cswork.definition.source import (
    DefinitionSet,
    Loaded,
    LoadedCalendar,
    LoadedWorkflow,
    Source,
)

__all__ = [
    "CalendarDef",
    "Deadline",
    "DefinitionSet",
    "Loaded",
    "LoadedCalendar",
    "LoadedWorkflow",
    "Source",
    "Transition",
    "Workflow",
    "load_file",
    "load_paths",
    "load_text",
    "yaml_files",
]
