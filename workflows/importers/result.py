"""What an importer answers: a definition in our format, its name and what was lost on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Imported:
    definition: Any
    name: str = "Imported workflow"
    description: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    source_format: str = ""
