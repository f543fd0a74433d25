"""What one import asks for (`ImportRequest`), parsed the same way from every door.

The web form, the API's multipart fields, the CLI's flags and a queued job's JSON are all
plain mappings of field name to value; `ImportRequest.parse` is the only reader of them, so
each refusal has one code and one message whichever way the import came in.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geoapp.db.vocabulary import RasterKind
from geoapp.errors import InvalidInput, InvalidParameter
from geoapp.geo.vertical import VerticalUnit, parse_datum, parse_unit

MAX_NAME = 200
TEXT_FIELDS = ("name", "source_crs", "encoding", "layer", "kind", "event", "vertical_datum",
               "unit")
# What an upload holds: flood zones (an NFHL layer or package), or a raster of one kind.
ZONES = "zones"
KINDS = (ZONES, *(kind.value for kind in RasterKind))
FIELD_MAP_EXAMPLE = '{"FLD_ZONE": "ZONE"}'
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class ImportRequest:
    """What the user chose for one import (the file itself travels apart)."""

    name: str
    effective_date: dt.date | None = None
    source_crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    field_map: Mapping[str, str] = field(default_factory=dict)
    repair: bool = True
    # zones, or a raster: dem, depth or wse, with its event (annual chance in percent),
    # vertical datum and unit when the file does not say.
    kind: str = ZONES
    event_percent: float | None = None
    vertical_datum: str | None = None
    unit: VerticalUnit | None = None
    # A chunk holds at most chunk_size features and chunk_vertices vertices (tuning only:
    # not a user's choice, so neither parsed nor carried in a job).
    chunk_size: int = 5000
    chunk_vertices: int = 2_000_000

    @classmethod
    def parse(cls, fields: Mapping[str, Any],
              loads: Callable[[str], Any] = json.loads) -> ImportRequest:
        """An import request from submitted fields: form, multipart, CLI flags or job JSON.

        Text may come as text or as values already typed (a date, a dict, a bool); a
        field_map given as text is read with `loads` (the web passes its nesting-limited
        reader). InvalidInput / InvalidParameter name the field that is wrong.
        """
        for key in TEXT_FIELDS:
            if "\x00" in str(fields.get(key) or ""):  # PostgreSQL text (and codecs) cannot hold NUL
                raise InvalidInput(f"{key} must not contain NUL characters", code="invalid_text")
        return cls(
            name=parse_name(fields.get("name")),
            effective_date=parse_effective_date(fields.get("effective_date")),
            source_crs=optional_text(fields.get("source_crs")),
            encoding=parse_encoding(fields.get("encoding")),
            layer=optional_text(fields.get("layer")),
            field_map=parse_field_map(fields.get("field_map"), loads),
            repair=parse_repair(fields.get("repair")),
            **parse_raster_fields(fields),
        )

    @property
    def is_raster(self) -> bool:
        """Whether the upload is a raster (DEM, depth or water-surface grid)."""
        return self.kind != ZONES

    def to_json(self) -> dict[str, Any]:
        """The request as JSON for a queued job (`from_json` reads it back)."""
        return {
            "name": self.name,
            "effective_date": self.effective_date.isoformat() if self.effective_date else None,
            "source_crs": self.source_crs,
            "encoding": self.encoding,
            "layer": self.layer,
            "field_map": dict(self.field_map),
            "repair": self.repair,
            "kind": self.kind,
            "event": self.event_percent,
            "vertical_datum": self.vertical_datum,
            "unit": self.unit.value if self.unit else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportRequest:
        """A request from a queued job's JSON, checked again by the same parser."""
        return cls.parse(data)


def optional_text(value: Any) -> str | None:
    """A stripped text field, None when blank or absent."""
    return (str(value) if value is not None else "").strip() or None


def parse_name(value: Any) -> str:
    """The dataset's name: required, at most MAX_NAME characters."""
    name = str(value or "").strip()
    if not name:
        raise InvalidInput("give the dataset a name", code="missing_name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the name is longer than {MAX_NAME} characters", code="invalid_name")
    return name


def parse_effective_date(value: Any) -> dt.date | None:
    """The map's effective date: a date, or text as YYYY-MM-DD; None when blank."""
    if isinstance(value, dt.date) or not value:
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"effective_date must be YYYY-MM-DD, got {value!r}",
                           code="invalid_date") from None


def parse_encoding(value: Any) -> str | None:
    """A text encoding Python knows (checked here, not half-way through the import)."""
    encoding = optional_text(value)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidInput(f"unknown text encoding {encoding[:40]!r}; use a name such as "
                               "cp1252, latin-1 or utf-8", code="invalid_encoding") from None
    return encoding


def parse_field_map(value: Any, loads: Callable[[str], Any] = json.loads) -> dict[str, str]:
    """NFHL field -> source field: an object of texts, or JSON text of one; {} when blank."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = loads(value)
        except ValueError:  # json.JSONDecodeError; a depth refusal is an InvalidInput of its own
            raise field_map_refused() from None
        if not isinstance(value, dict):  # JSON null, [] or 0 are no mapping either
            raise field_map_refused()
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise field_map_refused()
    return dict(value)


def field_map_refused() -> InvalidInput:
    """The one refusal of a field_map that is not an object of field names."""
    return InvalidInput(f"field_map must be a JSON object of field names, like "
                        f"{FIELD_MAP_EXAMPLE}", code="invalid_field_mapping")


def parse_repair(value: Any) -> bool:
    """Whether to repair invalid polygons: a bool, or true/false, 1/0, yes/no; default true."""
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidParameter(f"parameter 'repair' must be true or false, got {str(value)[:20]!r}")


def parse_raster_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """kind, event, vertical_datum and unit: checked together (an event only for depth and
    water-surface grids, and required for them)."""
    kind = (optional_text(fields.get("kind")) or ZONES).lower()
    if kind not in KINDS:
        raise InvalidParameter(f"parameter 'kind' must be one of {', '.join(KINDS)}, "
                               f"got {kind[:20]!r}")
    event = parse_event(fields.get("event"))
    if kind in (RasterKind.DEPTH, RasterKind.WSE) and event is None:
        raise InvalidParameter(f"parameter 'event' is required for a {kind} grid: its annual "
                               "chance in percent, 1 for the 1% (100-year) flood")
    if kind in (ZONES, RasterKind.DEM) and event is not None:
        raise InvalidParameter(f"parameter 'event' is only for depth and wse grids, not {kind}")
    unit_text = optional_text(fields.get("unit"))
    unit = parse_unit(unit_text)
    if unit_text and unit is None:
        raise InvalidParameter(f"parameter 'unit' must be m, ft or ftUS, got {unit_text[:20]!r}")
    return {"kind": kind, "event_percent": event,
            "vertical_datum": parse_datum(optional_text(fields.get("vertical_datum"))),
            "unit": unit}


def parse_event(value: Any) -> float | None:
    """An event's annual chance in percent (0 < p <= 100), None when blank."""
    text = optional_text(value)
    if text is None:
        return None
    try:
        percent = float(text.rstrip("%"))
    except ValueError:
        percent = float("nan")
    if not 0 < percent <= 100:  # also NaN
        raise InvalidParameter(f"parameter 'event' must be an annual chance in percent "
                               f"(0 < event <= 100, e.g. 1 or 0.2), got {text[:20]!r}")
    return percent
