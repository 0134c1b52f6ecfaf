"""Compare what a venv has installed with requirements-dev.lock.

    .venv/bin/python .ci/lockdiff.py [--both-ways] LOCK

Prints one line per difference and exits 1 if there is any. .ci/run uses it
twice: after the pinned install, to prove that the lock pins every package the
development set-up installs (a dependency added to pyproject.toml without
re-locking would be installed unpinned, and silently float); and to tell
whether the newest versions pyproject.toml allows differ from the lock at all
(--both-ways: a locked package that is no longer installed is a difference
too). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

# Installed by venv itself, or the project under test: never in the lock.
NOT_LOCKED = {"cswork", "pip", "setuptools", "wheel"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    """Name -> version of every pin in a requirements-style lock."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := PIN.match(line):
            pins[normal(m[1])] = m[2]
    return pins


def installed() -> dict[str, str]:
    """Name -> version of every distribution this interpreter has."""
    return {normal(d.metadata["Name"]): d.version for d in metadata.distributions()}


def differences(
    lock: dict[str, str], have: dict[str, str], both_ways: bool = False
) -> list[str]:
    """One line per installed package that is unpinned or at another version.

    With ``both_ways``, also one per locked package that is not installed.
    """
    lines = []
    for name in sorted(set(have) - NOT_LOCKED):
        if name not in lock:
            lines.append(f"{name} {have[name]}: not in the lock")
        elif lock[name] != have[name]:
            lines.append(f"{name}: {lock[name]} in the lock, {have[name]} here")
    if both_ways:
        missing = sorted(set(lock) - set(have))
        lines += [f"{name} {lock[name]}: in the lock, not here" for name in missing]
    return lines


def main(argv: list[str]) -> int:
    """Print the differences; 1 if there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("--both-ways", action="store_true")
    args = parser.parse_args(argv)
    found = differences(locked(args.lock), installed(), args.both_ways)
    sys.stdout.write("".join(f"  {line}\n" for line in found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
