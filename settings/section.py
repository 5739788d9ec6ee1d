"""What every configuration table is: strict, frozen, and closed to unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Lax = Field(strict=False)
"""For TOML arrays (lists) into tuples, and strings into enums and paths."""


class Section(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")
