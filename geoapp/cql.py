"""CQL2-text filters (OGC API - Features Part 3, basic CQL2 + S_INTERSECTS) to SQL expressions.

Parsing is pygeofilter's; turning its syntax tree into SQLAlchemy, against an explicit list of
queryable columns only, is done here so that nothing but those columns can be reached.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from sqlalchemy import ColumnElement, and_, not_, or_

from geoapp.errors import InvalidParameter

COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}


class CqlTranslator:
    """Translate a parsed filter, resolving property names through ``columns``.

    ``spatial`` turns a GeoJSON geometry (CRS84) into the S_INTERSECTS condition.
    """

    def __init__(
        self,
        columns: Mapping[str, ColumnElement[Any]],
        spatial: Callable[[str], ColumnElement[bool]],
    ) -> None:
        self.columns = columns
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
            return COMPARISONS[type(node)](self.scalar(node.lhs), self.scalar(node.rhs))
        if isinstance(node, ast.Like):
            column = self.scalar(node.lhs)
            # CQL2 LIKE uses SQL's own wildcards (% and _), so the pattern passes as it is.
            pattern = str(self.scalar(node.pattern))
            expression = column.ilike(pattern) if node.nocase else column.like(pattern)
            return not_(expression) if node.not_ else expression
        if isinstance(node, ast.In):
            expression = self.scalar(node.lhs).in_([self.scalar(item) for item in node.sub_nodes])
            return not_(expression) if node.not_ else expression
        if isinstance(node, ast.Between):
            column = self.scalar(node.lhs)
            expression = column.between(self.scalar(node.low), self.scalar(node.high))
            return not_(expression) if node.not_ else expression
        if isinstance(node, ast.IsNull):
            column = self.scalar(node.lhs)
            return column.is_not(None) if node.not_ else column.is_(None)
        if isinstance(node, ast.GeometryIntersects):
            return self.spatial(self.geometry(node.lhs, node.rhs))
        if isinstance(node, bool):
            return and_(True) if node else and_(False)
        raise InvalidParameter(
            f"parameter 'filter': {type(node).__name__} is not supported "
            "(use comparisons, LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT and S_INTERSECTS)"
        )

    def scalar(self, node: Any) -> Any:
        """A column for a property name, or a literal value."""
        if isinstance(node, ast.Attribute):
            if node.name not in self.columns:
                raise InvalidParameter(
                    f"parameter 'filter': unknown property {node.name!r}; "
                    f"queryables are {', '.join(self.columns)}"
                )
            return self.columns[node.name]
        if isinstance(node, str | int | float | bool | dt.date | dt.datetime):
            return node
        raise InvalidParameter(f"parameter 'filter': unexpected {type(node).__name__} operand")

    def geometry(self, lhs: Any, rhs: Any) -> str:
        """GeoJSON text of the literal side of S_INTERSECTS(geometry, <literal>)."""
        attribute, literal = (lhs, rhs) if isinstance(lhs, ast.Attribute) else (rhs, lhs)
        if not isinstance(attribute, ast.Attribute) or attribute.name != "geometry":
            raise InvalidParameter("parameter 'filter': S_INTERSECTS takes the property 'geometry'")
        if isinstance(literal, ast.Function) and literal.name.lower() == "bbox":
            if len(literal.arguments) != 4:
                raise InvalidParameter("parameter 'filter': BBOX takes 4 numbers")
            x1, y1, x2, y2 = (float(v) for v in literal.arguments)
            literal = values.Envelope(x1, x2, y1, y2)
        if isinstance(literal, values.Envelope):
            x1, x2, y1, y2 = literal.x1, literal.x2, literal.y1, literal.y2
            ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
            return json.dumps({"type": "Polygon", "coordinates": [ring]})
        if isinstance(literal, values.Geometry):
            return json.dumps(literal.geometry)
        raise InvalidParameter("parameter 'filter': S_INTERSECTS needs a geometry literal")


def translate(
    text: str,
    columns: Mapping[str, ColumnElement[Any]],
    spatial: Callable[[str], ColumnElement[bool]],
) -> ColumnElement[bool]:
    """Parse CQL2-text and translate it; InvalidParameter explains what is wrong."""
    try:
        tree = parse_cql2_text(text)
    except (LarkError, ValueError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidParameter(
            f"parameter 'filter': cannot parse CQL2-text: {first_line}"
        ) from None
    return CqlTranslator(columns, spatial).condition(tree)
