"""Coverage-guided fuzzing of the YAML loader with atheris (libFuzzer).

    python tests/fuzz/fuzz_loader.py -max_total_time=300 -rss_limit_mb=2048 \
        -timeout=10 tests/fuzz/corpus_loader

Every input must either load or raise ``DefinitionError`` with positions;
anything else (another exception, a hang past -timeout, memory past
-rss_limit_mb) is a crash that libFuzzer reports with the input that caused it.
The shipped workflows seed the corpus.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import yaml  # noqa: F401 - instrumented for coverage

    from cswork.definition import load_text
    from cswork.errors import DefinitionError

SEEDS = Path(__file__).resolve().parents[2] / "workflows"


def test_one(data: bytes) -> None:
    """One input: load it; only DefinitionError may come out."""
    text = data.decode("utf-8", "surrogatepass" if data[:1] == b"\xed" else "replace")
    try:
        load_text(text, "fuzz.yaml")
    except DefinitionError as err:
        if not err.problems:
            raise AssertionError("a DefinitionError without problems") from err
        for p in err.problems:
            if p.line < 0 or p.column < 0 or not p.message:
                raise AssertionError(f"a problem without a position: {p!r}") from err


def seed_corpus(directory: Path) -> None:
    """Put the shipped workflow files into the corpus directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in SEEDS.rglob("*.yaml"):
        (directory / path.name).write_bytes(path.read_bytes())


if __name__ == "__main__":
    corpus = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    for c in corpus:
        seed_corpus(c)
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
