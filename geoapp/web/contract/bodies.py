"""The request bodies the API reads (their parsing and messages are the domain's own:
zone edits, batch points, parcels; these declare what a client may send)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geoapp.errors import InvalidParameter
from geoapp.geo.vertical import VerticalUnit
from geoapp.ingest.request import KINDS


class ZoneGeometry(BaseModel):
    """What writes and parcels accept: a (Multi)Polygon."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[list[Any]]


class ZoneInputProperties(BaseModel):
    """A zone's NFHL properties; the source's other fields are kept as attributes."""

    model_config = ConfigDict(extra="allow")

    fld_zone: str
    dataset_id: int = None  # type: ignore[assignment]


class ZoneInput(BaseModel):
    """A zone to add or to replace one with."""

    type: Literal["Feature"]
    geometry: ZoneGeometry
    properties: ZoneInputProperties


class ZoneCollectionInput(BaseModel):
    """Zones to add, all or nothing."""

    type: Literal["FeatureCollection"]
    features: list[ZoneInput] = Field(min_length=1)


class ZonePatch(BaseModel):
    """A merge patch of a zone: its geometry, some properties, or both."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    geometry: ZoneGeometry = None  # type: ignore[assignment]
    properties: dict[str, Any] = None  # type: ignore[assignment]


class PointCollectionInput(BaseModel):
    """Points of a batch: any feature is taken; those that are not Points with lon/lat get
    a per-row error."""

    type: Literal["FeatureCollection"]
    features: list[Any]


class ParcelFeature(BaseModel):
    type: Literal["Feature"]
    geometry: ZoneGeometry


class TokenRequest(BaseModel):
    """POST /tokens: an optional name (other members are ignored)."""

    # PostgreSQL text cannot hold NUL.
    name: str = Field("", strict=True, pattern=r"^[^\x00]*$")

    @classmethod
    def read(cls, body: Any) -> TokenRequest:
        """The request from a JSON object; a name that is not a NUL-free string is refused."""
        try:
            return cls.model_validate(body)
        except ValidationError:
            raise InvalidParameter("'name' must be a string without NUL characters") from None


BINARY = {"type": "string", "format": "binary"}
# POST /datasets: a multipart form (its fields are read by the import's one parser).
IMPORT_FORM = {
    "type": "object", "required": ["file", "name"], "properties": {
        "file": BINARY, "name": {"type": "string"},
        "effective_date": {"type": "string", "format": "date"},
        "source_crs": {"type": "string"}, "encoding": {"type": "string"},
        "layer": {"type": "string"},
        "field_map": {"type": "string", "description": "JSON object"},
        # parse_bool also takes 1/0 (and yes/no), as HTML forms send.
        "repair": {"anyOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]},
        # A raster instead of zones: a GeoTIFF of ground elevation, or of an event's depth or
        # water surface (geoapp/ingest/request.py parses these with the rest).
        "kind": {"type": "string", "enum": list(KINDS),
                 "description": "zones (default), or a GeoTIFF raster: dem, depth, wse"},
        "event": {"type": "number", "minimum": 0, "maximum": 100,
                  "description": "annual chance in percent of a depth or wse grid (1 = the "
                  "1% flood)"},
        "vertical_datum": {"type": "string", "maxLength": 32,
                           "description": "of a dem or wse grid whose file does not say"},
        "unit": {"type": "string", "enum": [unit.value for unit in VerticalUnit],
                 "description": "of a raster's values, when its file does not say"}}}
CSV_UPLOAD = {"type": "object", "properties": {"file": BINARY}}
