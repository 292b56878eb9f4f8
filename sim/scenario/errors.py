"""The one kind of error a scenario can raise: where (file, line, field) and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXCERPT = 60  # characters of a bad value quoted in an error message


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """``value`` as text, cut to ``limit`` characters with "…" (for error messages)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: Any) -> str:
    """A bad value as an error message quotes it: repr-style, at most ``EXCERPT`` characters."""
    if isinstance(value, dict | list):
        return type(value).__name__
    if isinstance(value, str) and len(value) > EXCERPT:
        return f"{value[:EXCERPT]!r}… ({len(value):,} characters)"
    return excerpt(repr(value))


class ScenarioError(Exception):
    """A scenario that cannot be used, with where and why."""

    def __init__(
        self, file: str | Path, message: str, line: int | None = None, field: str | None = None
    ):
        if field is not None:
            field = ".".join(excerpt(part) for part in field.split("."))
        self.file, self.line, self.field, self.message = str(file), line, field, message
        where = self.file + (f", line {line}" if line else "")
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")
