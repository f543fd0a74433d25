"""CQL2 filters (OGC API - Features Part 3: basic CQL2 + S_INTERSECTS, as text or JSON) to SQL.

Parsing is pygeofilter's; turning its syntax tree into SQLAlchemy, against an explicit list of
queryable properties only, is done here so that nothing but those columns can be reached.
Every literal is checked against its property's type here, before any SQL runs: PostgreSQL
would otherwise refuse ``static_bfe = 'abc'`` mid-request, as a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from shapely.errors import ShapelyError
from shapely.geometry import shape
from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from geoapp.errors import InvalidParameter

COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
# How each property type is described in messages.
KINDS = {
    "string": "text (a quoted 'string')",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "TRUE or FALSE",
    "date": "a date (DATE('YYYY-MM-DD'))",
}
NUMERIC = {"number", "integer"}
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# PostgreSQL's integer, the type of the integer queryables.
INTEGER_RANGE = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Property:
    """A queryable column and its type: string, number, integer, boolean or date."""

    name: str
    column: ColumnElement[Any]
    kind: str


def fail(message: str) -> InvalidParameter:
    """The error for a filter that cannot be used, naming the `filter` parameter."""
    return InvalidParameter(f"parameter 'filter': {message}")


def literal_kind(value: Any) -> str:
    """The CQL2 type of a literal, as in KINDS (or the Python type's name if none)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.date):
        return "date"
    return type(value).__name__


def coerce(prop: Property, value: Any) -> Any:
    """``value`` as a literal of ``prop``'s type, or InvalidParameter naming both."""
    kind = literal_kind(value)
    wrong = fail(
        f"property '{prop.name}' is {KINDS[prop.kind]}, got {KINDS.get(kind, kind)} "
        f"{str(value)[:40]!r}"
    )
    if prop.kind == "string":
        if kind != "string":
            raise wrong
        return value
    if prop.kind == "boolean":
        if kind != "boolean":
            raise wrong
        return value
    if prop.kind == "integer":
        if kind != "integer":
            raise wrong
        low, high = INTEGER_RANGE
        if not low <= value <= high:
            raise fail(f"property '{prop.name}' must be between {low} and {high}")
        return value
    if prop.kind == "number":
        if kind not in NUMERIC:
            raise wrong
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise fail(f"property '{prop.name}' must be compared with a finite number")
        return number
    if prop.kind == "date":
        if kind == "string":
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise wrong from None
        if kind != "date":
            raise wrong
        return value
    raise wrong


class CqlTranslator:
    """Translate a parsed filter, resolving property names through ``properties``.

    ``spatial`` turns a GeoJSON geometry (CRS84) into the S_INTERSECTS condition.
    """

    def __init__(
        self,
        properties: Mapping[str, Property],
        spatial: Callable[[str], ColumnElement[bool]],
    ) -> None:
        self.properties = properties
        self.spatial = spatial

    def condition(self, node: Any) -> ColumnElement[bool]:
        """A boolean SQL expression for a filter node."""
        if isinstance(node, ast.And):
            return and_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node))
        if type(node) in COMPARISONS:
            return self.comparison(COMPARISONS[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.Like):
            prop = self.property(node.lhs, "LIKE")
            if prop.kind != "string":
                raise fail(f"LIKE needs a text property; '{prop.name}' is {KINDS[prop.kind]}")
            # CQL2 LIKE uses SQL's own wildcards (% and _), so the pattern passes as it is.
            pattern = coerce(prop, node.pattern)
            expression = prop.column.ilike(pattern) if node.nocase else prop.column.like(pattern)
            return not_(expression) if node.not_ else expression
        if isinstance(node, ast.In):
            prop = self.property(node.lhs, "IN")
            if not isinstance(node.sub_nodes, list | tuple):
                raise fail("IN takes a list of values")
            expression = prop.column.in_([coerce(prop, item) for item in node.sub_nodes])
            return not_(expression) if node.not_ else expression
        if isinstance(node, ast.Between):
            prop = self.property(node.lhs, "BETWEEN")
            expression = prop.column.between(coerce(prop, node.low), coerce(prop, node.high))
            return not_(expression) if node.not_ else expression
        if isinstance(node, ast.IsNull):
            prop = self.property(node.lhs, "IS NULL")
            return prop.column.is_not(None) if node.not_ else prop.column.is_(None)
        if isinstance(node, ast.GeometryIntersects):
            return self.spatial(self.geometry(node.lhs, node.rhs))
        if isinstance(node, ast.BBox):
            if node.crs is not None and node.crs != CRS84_URI:
                raise fail(f"BBOX coordinates are CRS84 ({CRS84_URI}), not {node.crs!r}")
            box = ast.Function("bbox", [node.minx, node.miny, node.maxx, node.maxy])
            return self.spatial(self.geometry(node.lhs, box))
        if isinstance(node, bool):
            return true() if node else false()
        raise fail(
            f"{type(node).__name__} is not supported "
            "(use comparisons, LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT and S_INTERSECTS)"
        )

    def property(self, node: Any, operator: str) -> Property:
        """The queryable property a node names; InvalidParameter if it names none."""
        if not isinstance(node, ast.Attribute):
            raise fail(f"{operator} applies to a property, not to {str(node)[:40]!r}")
        prop = self.properties.get(node.name) if isinstance(node.name, str) else None
        if prop is None:
            raise fail(
                f"unknown property {node.name!r}; queryables are {', '.join(self.properties)}"
            )
        return prop

    def comparison(self, operator: Callable[[Any, Any], Any], lhs: Any, rhs: Any) -> Any:
        """property <op> literal, literal <op> property, or property <op> property."""
        if not isinstance(lhs, ast.Attribute) and not isinstance(rhs, ast.Attribute):
            raise fail("a comparison needs a property on one side")
        if isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            left, right = self.property(lhs, "="), self.property(rhs, "=")
            if left.kind != right.kind and not {left.kind, right.kind} <= NUMERIC:
                raise fail(
                    f"property '{left.name}' is {KINDS[left.kind]} and '{right.name}' is "
                    f"{KINDS[right.kind]}: they cannot be compared"
                )
            return operator(left.column, right.column)
        if isinstance(lhs, ast.Attribute):
            prop = self.property(lhs, "a comparison")
            return operator(prop.column, coerce(prop, self.literal(rhs)))
        prop = self.property(rhs, "a comparison")
        return operator(coerce(prop, self.literal(lhs)), prop.column)

    @staticmethod
    def literal(node: Any) -> Any:
        """A scalar literal (text, number, boolean, date or timestamp)."""
        if isinstance(node, str | int | float | bool | dt.date | dt.datetime):
            return node
        raise fail(f"unexpected {type(node).__name__} operand")

    def geometry(self, lhs: Any, rhs: Any) -> str:
        """GeoJSON text of the literal side of S_INTERSECTS(geometry, <literal>), checked."""
        attribute, literal = (lhs, rhs) if isinstance(lhs, ast.Attribute) else (rhs, lhs)
        if not isinstance(attribute, ast.Attribute) or attribute.name != "geometry":
            raise fail("S_INTERSECTS takes the property 'geometry'")
        if isinstance(literal, ast.Function) and literal.name.lower() == "bbox":
            literal = bbox_envelope(literal.arguments)
        if isinstance(literal, values.Envelope):
            x1, x2, y1, y2 = literal.x1, literal.x2, literal.y1, literal.y2
            ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
            geojson: Any = {"type": "Polygon", "coordinates": [ring]}
        elif isinstance(literal, values.Geometry):
            geojson = literal.geometry
        else:
            raise fail("S_INTERSECTS needs a geometry literal")
        check_geometry(geojson)
        return json.dumps(geojson)


def bbox_envelope(arguments: list[Any]) -> values.Envelope:
    """The envelope of BBOX(minx, miny, maxx, maxy) in CRS84, checked."""
    if len(arguments) != 4 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in arguments
    ):
        raise fail("BBOX takes 4 numbers: BBOX(minx, miny, maxx, maxy)")
    try:
        x1, y1, x2, y2 = (float(v) for v in arguments)
    except OverflowError:
        raise fail("BBOX takes longitudes and latitudes in degrees (CRS84)") from None
    if not (abs(x1) <= 180 and abs(x2) <= 180 and abs(y1) <= 90 and abs(y2) <= 90):
        raise fail("BBOX takes longitudes and latitudes in degrees (CRS84)")
    if x1 > x2 or y1 > y2:
        raise fail("BBOX: each minimum must not exceed its maximum")
    return values.Envelope(x1, x2, y1, y2)


def check_geometry(geojson: Any) -> None:
    """Refuse a geometry literal PostGIS could not use: malformed, out of CRS84, invalid."""
    try:
        geometry = shape(geojson)
        coordinates = shapely.get_coordinates(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ShapelyError) as exc:
        raise fail(f"malformed geometry: {str(exc)[:80]}") from None
    if not all(math.isfinite(v) for v in coordinates.ravel()):
        raise fail("geometry coordinates must be finite numbers")
    if (abs(coordinates[:, 0]) > 180).any() or (abs(coordinates[:, 1]) > 90).any():
        raise fail("geometry coordinates must be longitude, latitude in degrees (CRS84)")
    if not geometry.is_valid:
        raise fail(f"invalid geometry: {shapely.is_valid_reason(geometry)}")


def standard_cql2_json(node: Any) -> Any:
    """CQL2-JSON rewritten to the forms pygeofilter 0.4 reads.

    It takes a ``bbox`` as (x1, x2, y1, y2) where CQL2 writes [minx, miny, maxx, maxy], and
    BETWEEN's bounds as a nested pair. The input is depth-limited, so recursion is safe.
    """
    if isinstance(node, list):
        return [standard_cql2_json(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list):
        return {"function": {"name": "bbox", "arguments": node["bbox"]}}
    rewritten = {key: standard_cql2_json(value) for key, value in node.items()}
    args = rewritten.get("args")
    if rewritten.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        rewritten["args"] = [args[0], [args[1], args[2]]]
    return rewritten


def parse_text(text: str) -> Any:
    """The syntax tree of CQL2-text; InvalidParameter explains what is wrong."""
    try:
        return parse_cql2_text(text)
    except (LarkError, ValueError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot parse CQL2-text: {first_line}") from None


def parse_json(document: Any) -> Any:
    """The syntax tree of a parsed CQL2-JSON document."""
    if not isinstance(document, dict | bool):
        raise fail("CQL2-JSON must be a JSON object (for text, use filter-lang=cql2-text)")
    try:
        return parse_cql2_json(standard_cql2_json(document))
    except Exception as exc:  # noqa: BLE001 - pygeofilter's walker fails in many ways on bad input
        raise fail(f"not a CQL2-JSON expression ({type(exc).__name__})") from None


def translate(
    tree: Any,
    properties: Mapping[str, Property],
    spatial: Callable[[str], ColumnElement[bool]],
) -> ColumnElement[bool]:
    """Translate a parsed filter; InvalidParameter explains what is wrong."""
    return CqlTranslator(properties, spatial).condition(tree)
