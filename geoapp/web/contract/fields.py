"""Building blocks of the query models: a parameter read by one of our parsers.

A query-string value is parsed by the same functions the API always used (so every message
stays word for word), and documented by the schema of the value on the wire. A parser
raises ``InvalidParameter`` naming the parameter; pydantic lets that exception through
unchanged (it only wraps ``ValueError`` and ``AssertionError``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo
from pydantic.functional_validators import BeforeValidator

from geoapp.errors import InvalidParameter

# A parser of one parameter: (raw text, parameter name, validation info) -> parsed value.
# The info gives the app config (``config_of``) and the fields validated before this one.
Parser = Callable[[str, str, ValidationInfo], Any]


def parsed(parse: Parser, *, empty_is_absent: bool = False) -> BeforeValidator:
    """Validate a field with one of our parsers, given its query-string name.

    With ``empty_is_absent``, ``name=`` counts as not sent (the field's default), as the
    parsers of paging and filter values always read it.
    """

    def validate(raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, str):  # a default, or a value set in code
            return raw
        if empty_is_absent and raw == "":
            return None
        context = info.context or {}
        name = context.get("names", {}).get(info.field_name, info.field_name)
        return parse(raw, name, info)

    return BeforeValidator(validate)


def config_of(info: ValidationInfo) -> Mapping[str, Any]:
    """The app config the parameters are read with (limits, defaults)."""
    return (info.context or {}).get("config", {})


def wire(schema: dict[str, Any], description: str, **parameter: Any) -> Callable[[dict], None]:
    """``json_schema_extra`` of a field: its schema on the wire (replacing the one of the
    parsed type), and parameter-level options (style, explode, ``allowEmptyValue=False``,
    ``required``) for the OpenAPI parameter object.

    ``x-config-KEYWORD: SETTING`` in ``schema`` and ``{SETTING}`` in ``description`` are
    filled from the app config when the document is built.
    """

    def replace(generated: dict[str, Any]) -> None:
        generated.clear()
        generated.update(schema, description=description)
        if parameter:
            generated["x-parameter"] = parameter

    return replace


class QueryModel(BaseModel):
    """The query parameters of one operation: validated from ``request.args`` by ``read``."""

    # Parameters not declared are ignored, as they always were (items refuses them itself).
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True,
                              arbitrary_types_allowed=True)

    @classmethod
    def read(cls, args: Mapping[str, str], config: Mapping[str, Any] | None = None) -> Any:
        """The validated parameters; the first invalid one raises InvalidParameter by name."""
        names = wire_names(cls)
        values = {wire: args[wire] for wire in names.values() if wire in args}
        try:
            return cls.model_validate(values, context={"names": names, "config": config or {}})
        except ValidationError as exc:
            raise InvalidParameter(describe(exc)) from None


@cache
def wire_names(model: type[BaseModel]) -> dict[str, str]:
    """{field name: query-string name} of a model (they differ for `bbox-crs`, `f`...)."""
    return {name: info.alias or name for name, info in model.model_fields.items()}


@cache
def declared_names(model: type[BaseModel]) -> frozenset[str]:
    """The query-string names a model declares (built once per model, not per request)."""
    return frozenset(wire_names(model).values())


def refuse_unknown(model: type[BaseModel], args: Mapping[str, str], hint: str = "") -> None:
    """Refuse, by name, query parameters the model does not declare."""
    declared = declared_names(model)
    unknown = sorted(key for key in args if key not in declared)
    if unknown:
        raise InvalidParameter(f"unknown parameter(s): {', '.join(unknown)}{hint}",
                               code="unknown_parameter")


def describe(error: ValidationError) -> str:
    """Our message for pydantic's first error: the parameter's name and what is wrong."""
    first = error.errors(include_url=False)[0]
    name = ".".join(str(part) for part in first["loc"]) or "query"
    if first["type"] == "missing":
        return f"parameter '{name}' is required"
    return f"parameter '{name}': {first['msg']}"
