"""What parsing a description answers, whichever parser made it (built-in or an AI provider)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ParseWarning:
    """Something to look at: ``field`` is ``"text"`` (with the character span of the words it is about,
    start inclusive, end exclusive) or a path into the definition (a placeholder to fill in)."""

    message: str
    field: str | None = "text"
    start: int | None = None
    end: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParseResult:
    """A definition that passes ``validate_definition``, how much of the text it rests on, and warnings."""

    definition: dict[str, Any]
    confidence: float
    warnings: list[ParseWarning] = field(default_factory=list)
    parser: str = "builtin"

    def as_dict(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "confidence": self.confidence,
            "warnings": [w.as_dict() for w in self.warnings],
            "parser": self.parser,
        }
