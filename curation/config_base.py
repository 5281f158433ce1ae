"""Base for every manifest section: strict, so an unknown or misspelt key is an error naming its path.

`SectionsModel` is a section whose further keys belong to registered components (the manifest's stage sections,
synth's task sections, score's scorer sections): each such key is validated by that component's config model and
filled with its defaults when absent, and a key no component registers is an unknown key like any other.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

INSTANCE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _errors_under(prefix: tuple[str, ...], err: ValidationError) -> list[InitErrorDetails]:
    out: list[InitErrorDetails] = []
    for d in err.errors():
        kind: Any = (
            d["type"] if d["type"] == "extra_forbidden" else PydanticCustomError(d["type"], "{msg}", {"msg": d["msg"]})
        )
        out.append(InitErrorDetails(type=kind, loc=(*prefix, *d["loc"]), input=d.get("input")))
    return out


class SectionsModel(BaseModel):
    """A strict model plus one sub-section per registered component (see the module docstring)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    component_kind: ClassVar[str] = "component"
    allow_instances: ClassVar[bool] = False  # `name@instance` keys: more configurations of one component

    @classmethod
    def section_models(cls) -> dict[str, type[BaseModel]]:
        """Component name -> its config model (asked of the registry at validation time)."""
        raise NotImplementedError

    @model_validator(mode="wrap")
    @classmethod
    def _sections(cls, data: Any, handler: Any) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        models = cls.section_models()
        data = dict(data)
        errors: list[InitErrorDetails] = []
        for key in [k for k in data if k not in cls.model_fields and k not in _aliases(cls)]:
            base, _, instance = key.partition("@")
            if base not in models or (instance and not (cls.allow_instances and INSTANCE.match(instance))):
                errors.append(InitErrorDetails(type="extra_forbidden", loc=(key,), input=data[key]))
                continue
            value = data[key]
            if isinstance(value, BaseModel):
                value = value.model_dump()
            try:
                data[key] = models[base].model_validate(value if value is not None else {})
            except ValidationError as e:
                errors.extend(_errors_under((key,), e))
        for key, model in models.items():
            if key not in data:
                data[key] = model()
        try:
            result = handler(data)
        except ValidationError as e:  # report the fields' problems together with the sections'
            errors = _errors_under((), e) + errors
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return result

    if TYPE_CHECKING:  # component sections are attributes too (validated above); the type checker cannot know them

        def __getattr__(self, name: str) -> Any: ...

    def instances_of(self, name: str) -> list[str]:
        """The section keys configuring a component: its own name, then `name@instance` keys in order."""
        return [name, *sorted(k for k in (self.__pydantic_extra__ or {}) if k.startswith(f"{name}@"))]

    def section(self, name: str) -> Any:
        """The settings of a registered component (attribute access works too, except for names that BaseModel
        itself uses, such as `validate`)."""
        extra = self.__pydantic_extra__ or {}
        if name not in extra:
            raise KeyError(f"no {self.component_kind} section {name!r}; known: {sorted(extra)}")
        return extra[name]


def _aliases(cls: type[BaseModel]) -> set[str]:
    return {f.alias for f in cls.model_fields.values() if f.alias}
