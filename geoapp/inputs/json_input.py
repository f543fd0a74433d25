"""JSON from clients, read in one place, refusing what no code after it could use.

* Nesting: Python's parser recurses once per level and raises RecursionError (an unhandled
  500) near 1,000 levels; values nested a little less deep still fail later, when the code
  or the database driver walks them. Client JSON is refused past a fixed depth, far beyond
  anything GeoJSON or our other bodies need.
* Integers too large for a float read as infinity (as 1e400 does), so that the checks for
  finite numbers refuse them instead of float() raising OverflowError.
* Strings holding NUL or a lone UTF-16 surrogate are refused: PostgreSQL cannot store them
  (as NUL in query parameters is refused, see ``geoapp.web.handlers``).

Request bodies go through the app's JSON provider (``geoapp.web.json_provider``); JSON carried in
form fields or query parameters through ``loads_limited`` directly.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from geoapp.errors import InvalidInput

# A GeoJSON FeatureCollection of MultiPolygons is 8 levels deep; properties add a few.
DEFAULT_MAX_DEPTH = 64
# Digits of the largest float (1.8e308).
_FLOAT_DIGITS = 309
_LONG_DIGITS = re.compile(f"[0-9]{{{_FLOAT_DIGITS}}}")
# NUL and lone surrogates can only come from \u escapes (JSON strings hold no raw control
# characters, and UTF-8 has no surrogates): only texts holding such an escape are walked.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class JsonTooDeep(InvalidInput):
    """JSON nested deeper than the configured limit (GEOAPP_JSON_MAX_DEPTH)."""

    code = "invalid_json"


class InvalidJsonText(InvalidInput):
    """JSON whose strings cannot be stored as text (NUL, lone UTF-16 surrogates)."""

    code = "invalid_json"


def nesting_depth(value: Any, limit: int) -> int:
    """How many arrays/objects deep ``value`` goes (0 for a scalar), counted up to limit + 1.

    Level by level rather than recursively, and in comprehensions: a batch of 100,000
    points is checked in about a fifth of the time json.loads takes to read it.
    """
    level = [value]
    depth = 0
    while depth <= limit:
        containers = [node for node in level if isinstance(node, dict | list)]
        if not containers:
            break
        depth += 1
        level = [
            child
            for node in containers
            for child in (node.values() if isinstance(node, dict) else node)
        ]
    return depth


def read_integer(text: str) -> int | float:
    """A JSON integer; one too large for any float reads as ±infinity, as 1e400 already does.

    Python would keep a 400-digit integer exact, and every float() of it downstream (a
    coordinate, a BFE) would raise OverflowError; as infinity, the finite-number checks
    refuse it by name, and JavaScript's JSON.parse reads it the same way.
    """
    if len(text) > _FLOAT_DIGITS + 1:  # beyond any float, and int() of it is slow
        return -math.inf if text.startswith("-") else math.inf
    value = int(text)
    if abs(value) > sys.float_info.max:
        return -math.inf if value < 0 else math.inf
    return value


def loads_limited(text: str | bytes, max_depth: int = DEFAULT_MAX_DEPTH, **kwargs: Any) -> Any:
    """Parse client JSON, refusing (JsonTooDeep or InvalidJsonText, 400s) what no code can use:
    nesting deeper than max_depth, and strings holding NUL or a lone UTF-16 surrogate
    ("\\u0000", "\\ud800": PostgreSQL cannot store them).

    Malformed text raises ValueError (json.JSONDecodeError) as json.loads does.
    """
    if isinstance(text, bytes | bytearray):  # as json.loads does, so the text can be searched
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    if _LONG_DIGITS.search(text):  # the hook costs a Python call per integer: only if needed
        kwargs.setdefault("parse_int", read_integer)
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        value = None
        depth = max_depth + 1
    else:
        depth = nesting_depth(value, max_depth)
    if depth > max_depth:
        raise JsonTooDeep(f"the JSON is nested too deeply (more than {max_depth} levels)")
    if _SUSPECT_ESCAPE.search(text):
        check_storable_text(value)
    return value


def check_storable_text(value: Any) -> None:
    """Refuse a parsed value with a string (or key) PostgreSQL cannot store: one holding NUL
    (text and JSONB cannot) or a lone UTF-16 surrogate (not encodable as UTF-8)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if "\x00" in node:
                raise InvalidJsonText("the JSON holds a NUL character (\\u0000), which "
                                      "PostgreSQL cannot store")
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidJsonText(
                    "the JSON holds a lone UTF-16 surrogate (an escape like \\ud800 without "
                    "its pair), which is not text"
                ) from None
