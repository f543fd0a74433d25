"""An OpenAPI 3.0 document assembled from declared operations and pydantic models.

Pydantic writes JSON Schema 2020-12; the OGC conformance class ``oas30`` (and GDAL, QGIS
and OWSLib, which read our document) want OpenAPI 3.0, whose schema dialect differs in a
few words: ``nullable`` instead of a ``null`` type, ``enum`` instead of ``const``, no
``$defs``. ``oas30`` rewrites a model's schema in that dialect; ``document`` lays out the
paths. Nothing here knows Flask or our routes: the declarations live in
``geoapp.web.contract``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

JSON = "application/json"
HTML = "text/html"
REF_PREFIX = "#/components/schemas/"
# Error statuses and what they mean here; every one has the JSON error body.
ERROR_TEXTS = {
    400: "Invalid parameter or body",
    401: "No valid credentials",
    403: "Role not allowed",
    404: "Not found",
    405: "Method not allowed on this resource",
    409: "Conflicts with the current state",
    413: "Too large",
    415: "Unsupported media type",
    429: "Rate limited (rate_limited): retry after the seconds in Retry-After",
    502: "An upstream service failed",
    503: "Database unavailable, or the query ran past its time budget (query_timeout)",
}
# JSON Schema words OpenAPI 3.0 does not have and that only annotate (titles pydantic
# derives from field names add nothing a reader or a validator needs).
_DROPPED = {"title", "examples", "$schema"}
_SETTING = re.compile(r"\{(GEOAPP_[A-Z0-9_]+)\}")

Schema = dict[str, Any]
NULL_ONLY: Schema = {"type": "object", "nullable": True, "enum": [None]}
# A model (a reference to its component), several (any of them), or a schema as written.
SchemaSource = type[BaseModel] | tuple[type[BaseModel], ...] | Schema


@dataclass(frozen=True)
class Reply:
    """One documented answer: a description and its body per media type (none: no body)."""

    description: str
    content: Mapping[str, SchemaSource] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One method of one path, declared once: its parameters, body and answers."""

    method: str
    path: str
    operation_id: str
    summary: str
    replies: Mapping[int, Reply]
    query: type[BaseModel] | None = None
    path_parameters: tuple[Schema, ...] = ()
    body: Mapping[str, SchemaSource] | None = None
    body_required: bool = True
    errors: tuple[int, ...] = ()
    secured: bool = False
    description: str | None = None


def oas30(schema: Any) -> Any:
    """A JSON Schema 2020-12 fragment (as pydantic writes it) in OpenAPI 3.0's dialect."""
    if isinstance(schema, list):
        return [oas30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: oas30(value) for key, value in schema.items() if key not in _DROPPED}
    if "properties" in schema:
        # Property names are data, not keywords: a property called "title" is kept.
        out["properties"] = {name: oas30(value) for name, value in schema["properties"].items()}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/$defs/", REF_PREFIX)
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for word in ("anyOf", "oneOf"):
        options = out.get(word)
        if not isinstance(options, list) or {"type": "null"} not in options:
            continue
        rest = [option for option in options if option != {"type": "null"}]
        del out[word]
        if len(rest) == 1 and "type" in rest[0]:
            # OpenAPI 3.0.3: nullable adds null to the `type` beside it (and an enum must
            # list null for null to be valid).
            out = {**rest[0], **out, "nullable": True}
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            # nullable next to a $ref (or no type) means nothing in 3.0.3: null is one more
            # option, the spelling the specification's clarification of nullable gives.
            out["anyOf"] = [*rest, NULL_ONLY]
    if out.get("default", 0) is None:
        del out["default"]  # "null when absent" is what nullable already says
    return out


def model_schemas(models: Iterable[type[BaseModel]]) -> dict[str, Schema]:
    """The components/schemas of these models and of every model they contain."""
    return copy.deepcopy(_model_schemas(tuple(dict.fromkeys(models))))


@lru_cache(maxsize=8)
def _model_schemas(unique: tuple[type[BaseModel], ...]) -> dict[str, Schema]:
    # Generating the schemas takes most of the document's time (tens of milliseconds);
    # models do not change while the process runs.
    _, top = models_json_schema(
        [(model, "serialization") for model in unique], ref_template=REF_PREFIX + "{model}"
    )
    schemas = {name: oas30(schema) for name, schema in top.get("$defs", {}).items()}
    return dict(sorted(schemas.items()))


def schema_of(source: SchemaSource) -> Schema:
    """A reference to a model's component, any of several, or an inline schema as written."""
    if isinstance(source, type):
        return {"$ref": REF_PREFIX + source.__name__}
    if isinstance(source, tuple):
        return {"anyOf": [schema_of(model) for model in source]}
    return source


def configured(schema: Schema, config: Mapping[str, Any]) -> Schema:
    """Fill ``x-config-KEYWORD: SETTING`` from the config (limits that are settings)."""
    out = {}
    for key, value in schema.items():
        if key.startswith("x-config-"):
            out[key.removeprefix("x-config-")] = config[value]
        else:
            out[key] = value
    return out


def query_parameters(model: type[BaseModel], config: Mapping[str, Any]) -> list[Schema]:
    """The query parameters a model declares, in its field order.

    Optional parameters sent empty count as absent, as our parsers read them; each schema
    is the one of the value on the wire (a query string), not of the parsed value.
    """
    declared = _validation_schema(model)
    required = set(declared.get("required", []))
    parameters = []
    for name, schema in declared.get("properties", {}).items():
        schema = configured(oas30(schema), config)
        extra = schema.pop("x-parameter", {})
        description = _SETTING.sub(lambda m: str(config[m.group(1)]),
                                   schema.pop("description", ""))
        parameter: Schema = {"name": name, "in": "query", "required": name in required,
                             "schema": schema, "description": description, **extra}
        if not parameter["required"] and parameter.pop("allowEmptyValue", True):
            parameter["allowEmptyValue"] = True
        parameters.append(parameter)
    return parameters


@lru_cache(maxsize=64)
def _validation_schema(model: type[BaseModel]) -> Schema:
    return model.model_json_schema(mode="validation")


def error_replies(statuses: Iterable[int], error_model: type[BaseModel]) -> dict[str, Any]:
    """Documented error answers, all with the same JSON error body."""
    return {
        str(status): {"description": ERROR_TEXTS[status],
                      "content": {JSON: {"schema": schema_of(error_model)}}}
        for status in statuses
    }


def operation_object(operation: Operation, error_model: type[BaseModel],
                     security: list[dict[str, list[str]]], config: Mapping[str, Any]) -> Schema:
    """The OpenAPI operation object of a declaration."""
    out: Schema = {"summary": operation.summary, "operationId": operation.operation_id}
    if operation.description:
        out["description"] = operation.description
    if operation.secured:
        out["security"] = security
    parameters = [*operation.path_parameters]
    if operation.query is not None:
        parameters += query_parameters(operation.query, config)
    if parameters:
        out["parameters"] = parameters
    if operation.body is not None:
        out["requestBody"] = {
            "required": operation.body_required,
            "content": {media: {"schema": schema_of(source)}
                        for media, source in operation.body.items()},
        }
    responses: Schema = {}
    for status, reply in operation.replies.items():
        responses[str(status)] = {"description": reply.description}
        if reply.content:
            responses[str(status)]["content"] = {
                media: {"schema": schema_of(source)} for media, source in reply.content.items()
            }
    responses.update(error_replies(operation.errors, error_model))
    out["responses"] = responses
    return out


def referenced_models(operations: Iterable[Operation]) -> list[type[BaseModel]]:
    """Every model a body or an answer of the operations names."""
    models: list[type[BaseModel]] = []
    for operation in operations:
        sources = [*(operation.body or {}).values()]
        for reply in operation.replies.values():
            sources += reply.content.values()
        for source in sources:
            if isinstance(source, type):
                models.append(source)
            elif isinstance(source, tuple):
                models += source
    return models


def document(
    *,
    info: Schema,
    base_url: str,
    operations: Iterable[Operation],
    error_model: type[BaseModel],
    security_schemes: Mapping[str, Schema],
    config: Mapping[str, Any],
) -> Schema:
    """The whole OpenAPI 3.0.3 document of the declared operations."""
    operations = list(operations)
    security = [{name: []} for name in security_schemes]
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method] = operation_object(
            operation, error_model, security, config
        )
    return {
        "openapi": "3.0.3",
        "info": info,
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "securitySchemes": dict(security_schemes),
            "schemas": model_schemas([error_model, *referenced_models(operations)]),
        },
    }
