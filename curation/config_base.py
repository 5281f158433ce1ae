"""Base for every manifest section: strict, so an unknown or misspelt key is an error naming its path."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
