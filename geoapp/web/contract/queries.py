"""The query parameters of every API operation, declared once.

Each model is both the validator of ``request.args`` (``Model.read``) and the source of
the operation's parameters in the OpenAPI document. A field's Python type is the parsed
value; its ``json_schema_extra`` is the value on the wire.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, create_model

from geoapp.errors import InvalidParameter
from geoapp.geo.crs import CRS84, SUPPORTED, ApiCrs, parse_crs
from geoapp.ingest.exports import FORMATS, ExportFormat, parse_format
from geoapp.inputs.params import (
    PG_BIGINT_MAX,
    PG_INTEGER_MAX,
    decimal_number,
    parse_bool,
    parse_choice,
    parse_dataset_reference,
    parse_date,
    parse_float,
    whole_number,
)
from geoapp.ogc import features, layer_features
from geoapp.ogc.features import (
    FILTER_LANGUAGES,
    MAX_OFFSET,
    PARAMETER_ALIASES,
    PROPERTIES,
    PROPERTY_COLUMNS,
    QUERYABLES,
    SORTABLE,
)
from geoapp.web.contract.fields import QueryModel, config_of, parsed, refuse_unknown, wire

CRS_URIS = [crs.uri for crs in SUPPORTED]
BATCH_FORMATS = ("json", "geojson", "csv")
DETAILS = ("compact", "full")
# A point lookup: the whole determination, or the zones alone (the faster answer).
POINT_DETAILS = ("full", "zones")
PAGE_FORMATS = ("json", "html")
# Units heights are answered (and first floors given) in.
HEIGHT_UNITS = ("ft", "m")
# A first floor's elevation or height, within what any place on Earth could have.
FLOOR_ELEVATION_LIMITS = (-1500.0, 30000.0)
FLOOR_HEIGHT_LIMITS = (-100.0, 1000.0)


def _longitude(raw: str, name: str, info: ValidationInfo) -> float:
    return parse_float({name: raw}, name, minimum=-180.0, maximum=180.0)


def _latitude(raw: str, name: str, info: ValidationInfo) -> float:
    return parse_float({name: raw}, name, minimum=-90.0, maximum=90.0)


def _radius(raw: str, name: str, info: ValidationInfo) -> float:
    limit = config_of(info)["GEOAPP_NEAREST_MAX_RADIUS_M"]
    return parse_float({name: raw}, name, minimum=0, maximum=limit)


def _date(raw: str, name: str, info: ValidationInfo) -> dt.date | None:
    return parse_date({name: raw}, name)


def _dataset(raw: str, name: str, info: ValidationInfo) -> int | str | None:
    return parse_dataset_reference({name: raw}, name)


def _floor_elevation(raw: str, name: str, info: ValidationInfo) -> float:
    low, high = FLOOR_ELEVATION_LIMITS
    return parse_float({name: raw}, name, minimum=low, maximum=high)


def _floor_height(raw: str, name: str, info: ValidationInfo) -> float:
    low, high = FLOOR_HEIGHT_LIMITS
    return parse_float({name: raw}, name, minimum=low, maximum=high)


def _datum_text(raw: str, name: str, info: ValidationInfo) -> str:
    text = raw.strip()
    if not text or len(text) > 32 or not text.isprintable():
        raise InvalidParameter(f"parameter '{name}' must be a vertical datum such as NAVD88")
    return text


def _boolean(raw: str, name: str, info: ValidationInfo) -> bool:
    return parse_bool({name: raw}, name)


def _choice(*choices: str) -> Any:
    def parse(raw: str, name: str, info: ValidationInfo) -> str | None:
        return parse_choice({name: raw}, name, choices)

    return parsed(parse)


def _whole(minimum: int, maximum: int, *, empty_is_absent: bool = True) -> Any:
    def parse(raw: str, name: str, info: ValidationInfo) -> int:
        return whole_number(raw, name, minimum=minimum, maximum=maximum)

    return parsed(parse, empty_is_absent=empty_is_absent)


def _format_choice(description: str = "Output format (also negotiated with the Accept header)"):
    return Field(None, alias="f", json_schema_extra=wire(
        {"type": "string", "enum": list(PAGE_FORMATS)}, description))


Longitude = Annotated[float, parsed(_longitude)]
Latitude = Annotated[float, parsed(_latitude)]
Day = Annotated[dt.date | None, parsed(_date)]
DatasetReference = Annotated[int | str | None, parsed(_dataset)]
Flag = Annotated[bool, parsed(_boolean)]

LON = wire({"type": "number", "minimum": -180, "maximum": 180}, "Longitude (WGS84)")
LAT = wire({"type": "number", "minimum": -90, "maximum": 90}, "Latitude (WGS84)")
DATASET = wire({"type": "string"}, "Dataset id or name")
AS_OF = wire({"type": "string", "format": "date"}, "Answer from the maps in force on this date")
UNIT = wire({"type": "string", "enum": list(HEIGHT_UNITS)},
            "Unit of heights and depths in the answer (and of a first floor given): ft "
            "(default) or m")
HeightUnit = Annotated[str | None, _choice(*HEIGHT_UNITS)]


class PageFormat(QueryModel):
    """`f` of the small OGC resources (landing page, conformance, collections)."""

    f: Annotated[str | None, _choice(*PAGE_FORMATS)] = _format_choice()


class PointQuery(QueryModel):
    """GET /lookup: a point, the search radius of the nearest high-risk zone, the maps."""

    lon: Longitude = Field(json_schema_extra=LON)
    lat: Latitude = Field(json_schema_extra=LAT)
    nearest_radius: Annotated[float | None, parsed(_radius)] = Field(None, json_schema_extra=wire(
        {"type": "number", "minimum": 0, "x-config-maximum": "GEOAPP_NEAREST_MAX_RADIUS_M"},
        "Search radius (m) for the nearest high-risk zone", allowEmptyValue=False))
    as_of: Day = Field(None, json_schema_extra=AS_OF)
    dataset: DatasetReference = Field(None, json_schema_extra=DATASET)
    detail: Annotated[str | None, _choice(*POINT_DETAILS)] = Field(
        None, json_schema_extra=wire({"type": "string", "enum": list(POINT_DETAILS)},
                                     "The whole determination (default) or the zones alone"))
    unit: HeightUnit = Field(None, json_schema_extra=UNIT)
    first_floor_elevation: Annotated[float | None, parsed(_floor_elevation)] = Field(
        None, json_schema_extra=wire(
            {"type": "number", "minimum": FLOOR_ELEVATION_LIMITS[0],
             "maximum": FLOOR_ELEVATION_LIMITS[1]},
            "Elevation of the first floor (an Elevation Certificate's), in `unit`, on "
            "`first_floor_datum`: the answer gives the water above it per event",
            allowEmptyValue=False))
    first_floor_height: Annotated[float | None, parsed(_floor_height)] = Field(
        None, json_schema_extra=wire(
            {"type": "number", "minimum": FLOOR_HEIGHT_LIMITS[0],
             "maximum": FLOOR_HEIGHT_LIMITS[1]},
            "Height of the first floor above the ground, in `unit` (instead of "
            "first_floor_elevation)", allowEmptyValue=False))
    first_floor_datum: Annotated[str | None, parsed(_datum_text)] = Field(
        None, json_schema_extra=wire({"type": "string", "maxLength": 32},
                                     "Vertical datum of first_floor_elevation (default NAVD88)",
                                     allowEmptyValue=False))


class BatchQuery(QueryModel):
    """POST /lookup/batch: output format and detail, and the maps."""

    f: Annotated[str | None, _choice(*BATCH_FORMATS)] = Field(None, json_schema_extra=wire(
        {"type": "string", "enum": list(BATCH_FORMATS)}, "Output format (or Accept)"))
    detail: Annotated[str | None, _choice(*DETAILS)] = Field(None, json_schema_extra=wire(
        {"type": "string", "enum": list(DETAILS)}, "Compact rows or full reports"))
    as_of: Day = Field(None, json_schema_extra=AS_OF)
    dataset: DatasetReference = Field(None, json_schema_extra=DATASET)
    unit: HeightUnit = Field(None, json_schema_extra=UNIT)


class AreaQuery(QueryModel):
    """POST /lookup/area: repair an invalid parcel or not, and the maps."""

    repair: Flag = Field(False, json_schema_extra=wire(
        {"type": "boolean"}, "Repair an invalid polygon"))
    as_of: Day = Field(None, json_schema_extra=AS_OF)
    dataset: DatasetReference = Field(None, json_schema_extra=DATASET)
    unit: HeightUnit = Field(None, json_schema_extra=UNIT)


class RasterListQuery(QueryModel):
    """GET /rasters: the maps whose raster layers are listed."""

    as_of: Day = Field(None, json_schema_extra=AS_OF)
    dataset: DatasetReference = Field(None, json_schema_extra=DATASET)


class RepairQuery(QueryModel):
    """Writes of zones: repair invalid geometries or refuse them."""

    repair: Flag = Field(False, json_schema_extra=wire(
        {"type": "boolean"}, "Repair invalid geometries"))


class GeocodeQuery(QueryModel):
    """GET /geocode: the address, and how many places at most."""

    # The geocoding module checks the text itself (its length, a blank query).
    q: str = Field("", json_schema_extra=wire(
        {"type": "string", "minLength": 1, "maxLength": 200}, "Address or place name",
        required=True))
    limit: Annotated[int, _whole(1, 10, empty_is_absent=False)] = Field(5, json_schema_extra=wire(
        {"type": "integer", "minimum": 1, "maximum": 10}, "Most places returned (default 5)",
        allowEmptyValue=False))


def _export_format(raw: str, name: str, info: ValidationInfo) -> ExportFormat:
    return parse_format(raw)


class ExportQuery(QueryModel):
    """GET /datasets/{id}/export: the file format."""

    format: Annotated[ExportFormat, parsed(_export_format)] = Field(
        FORMATS["gpkg"], json_schema_extra=wire(
            {"type": "string", "enum": list(FORMATS)}, "File format"))


def _trimmed(length: int) -> Any:
    """A free-text filter: blank means none, longer than any stored value is cut."""

    def parse(raw: str, name: str, info: ValidationInfo) -> str | None:
        return raw.strip()[:length] or None

    return parsed(parse)


AUDIT_PAGE_SIZE = 50
AUDIT_MAX_LIMIT = 500
AUDIT_MAX_OFFSET = 10**9


class AuditQuery(QueryModel):
    """GET /audit: which events, and the page."""

    user: Annotated[str | None, _trimmed(254)] = Field(None, json_schema_extra=wire(
        {"type": "string"}, "Only events of this user (email or id)"))
    action: Annotated[str | None, _trimmed(80)] = Field(None, json_schema_extra=wire(
        {"type": "string"}, "Only this action, e.g. api.create_token"))
    limit: Annotated[int, _whole(1, AUDIT_MAX_LIMIT, empty_is_absent=False)] = Field(
        AUDIT_PAGE_SIZE, json_schema_extra=wire(
            {"type": "integer", "minimum": 1, "maximum": AUDIT_MAX_LIMIT},
            f"Events per page (default {AUDIT_PAGE_SIZE})", allowEmptyValue=False))
    offset: Annotated[int, _whole(0, AUDIT_MAX_OFFSET, empty_is_absent=False)] = Field(
        0, json_schema_extra=wire({"type": "integer", "minimum": 0,
                                   "maximum": AUDIT_MAX_OFFSET},
                                  "Events to skip", allowEmptyValue=False))


# --- items (OGC API - Features parts 1-3, 5) -------------------------------------------------


def _crs(raw: str, name: str, info: ValidationInfo) -> ApiCrs:
    return parse_crs(raw, name)


def _bbox(raw: str, name: str, info: ValidationInfo) -> tuple[float, float, float, float]:
    return features.parse_bbox(raw, info.data.get("bbox_crs", CRS84))


def _simplify(raw: str, name: str, info: ValidationInfo) -> float:
    value = decimal_number(raw, name)
    if value < 0:
        raise InvalidParameter(f"parameter '{name}' must not be negative")
    return value


def _datetime(raw: str, name: str, info: ValidationInfo) -> tuple[Any, Any]:
    return features.parse_datetime(raw)


def _sortby(raw: str, name: str, info: ValidationInfo) -> list[tuple[str, bool]]:
    order = []
    for item in raw.split(","):
        item = item.strip()
        descending = item.startswith("-")
        prop = item.lstrip("+-")
        if prop not in SORTABLE:
            raise InvalidParameter(
                f"parameter 'sortby': unknown property {prop!r}; sortable are "
                f"{', '.join(SORTABLE)}"
            )
        order.append((prop, descending))
    return order


def _properties(raw: str, name: str, info: ValidationInfo) -> list[str]:
    chosen = [prop.strip() for prop in raw.split(",") if prop.strip()]
    unknown = [prop for prop in chosen if prop not in PROPERTY_COLUMNS]
    if unknown:
        raise InvalidParameter(
            f"parameter 'properties': unknown {', '.join(unknown)}; available are "
            f"{', '.join(PROPERTIES)}"
        )
    return chosen


def _filter_crs(raw: str, name: str, info: ValidationInfo) -> ApiCrs:
    if parse_crs(raw, name) is not CRS84:
        raise InvalidParameter("parameter 'filter-crs': only CRS84 is supported")
    return CRS84


def _filter(raw: str, name: str, info: ValidationInfo) -> Any:
    language = info.data.get("filter_lang") or "cql2-text"
    return features.parse_filter(raw, language, config_of(info)["GEOAPP_JSON_MAX_DEPTH"])


def _equals(queryable: str) -> Any:
    """A queryable (or its alias) as a parameter: equals one value, or any of a comma list."""

    def parse(raw: str, name: str, info: ValidationInfo) -> Any:
        if queryable == "dataset":
            return parse_dataset_reference({name: raw}, name)
        return [QUERYABLES[queryable].parse(name, part) for part in raw.split(",")]

    return parsed(parse, empty_is_absent=True)


def _cursor(raw: str, name: str, info: ValidationInfo) -> str:
    # Read with the page's sortby in to_query; here only its size is bounded.
    if len(raw) > features.MAX_CURSOR_LENGTH:
        raise InvalidParameter(f"parameter '{name}' is too long to be a cursor")
    return raw


PageLimit = Annotated[int | None, _whole(1, PG_BIGINT_MAX)]
PageOffset = Annotated[int | None, _whole(0, MAX_OFFSET)]


BboxCrs = Annotated[ApiCrs, parsed(_crs)]
Bbox = Annotated[tuple[float, float, float, float] | None, parsed(_bbox, empty_is_absent=True)]


def bbox_crs_field() -> Any:
    """`bbox-crs` of an items page."""
    return Field(CRS84, alias="bbox-crs", json_schema_extra=wire(
        {"type": "string", "enum": CRS_URIS}, "CRS of bbox"))


def bbox_field() -> Any:
    """`bbox` of an items page, in `bbox-crs`."""
    return Field(None, json_schema_extra=wire(
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        "minx,miny,maxx,maxy in bbox-crs (EPSG:4326: lat,lon order)",
        style="form", explode=False))


def page_limit_field() -> Any:
    """`limit` of an items page, as the OpenAPI document declares it."""
    return Field(None, json_schema_extra=wire(
        {"type": "integer", "minimum": 1, "x-config-default": "GEOAPP_ITEMS_DEFAULT_LIMIT"},
        "Page size; served at most {GEOAPP_ITEMS_MAX_LIMIT}"))


def page_offset_field() -> Any:
    """`offset` of an items page, as the OpenAPI document declares it."""
    return Field(None, json_schema_extra=wire(
        {"type": "integer", "minimum": 0, "default": 0}, "Features to skip"))


class ItemsStandardQuery(QueryModel):
    """The standard items parameters, in the order their errors are reported."""

    limit: PageLimit = page_limit_field()
    offset: PageOffset = page_offset_field()
    cursor: Annotated[str | None, parsed(_cursor, empty_is_absent=True)] = Field(
        None, json_schema_extra=wire(
            {"type": "string", "maxLength": features.MAX_CURSOR_LENGTH},
            "Where the page starts, as put in the 'next' link (opaque; instead of offset)"))
    bbox_crs: BboxCrs = bbox_crs_field()
    bbox: Bbox = bbox_field()
    crs: Annotated[ApiCrs, parsed(_crs)] = Field(CRS84, json_schema_extra=wire(
        {"type": "string", "enum": CRS_URIS}, "CRS of the output"))
    precision: Annotated[int | None, _whole(0, 15)] = Field(None, json_schema_extra=wire(
        {"type": "integer", "minimum": 0, "maximum": 15}, "Decimal digits of coordinates"))
    simplify: Annotated[float | None, parsed(_simplify, empty_is_absent=True)] = Field(
        None, json_schema_extra=wire({"type": "number", "minimum": 0},
                                     "Simplification tolerance, in units of the output CRS"))
    skip_geometry: Flag = Field(False, alias="skipGeometry", json_schema_extra=wire(
        {"type": "boolean", "default": False}, "Omit geometries"))
    datetime: Annotated[tuple[Any, Any] | None, parsed(_datetime, empty_is_absent=True)] = Field(
        None, json_schema_extra=wire(
            {"type": "string"},
            "Effective date of the map: an RFC 3339 date or an interval a/b, ../b, a/.."))


def _queryable_fields() -> dict[str, Any]:
    """One parameter per queryable, and the friendlier aliases."""
    fields: dict[str, Any] = {}
    for name, queryable in QUERYABLES.items():
        fields[name] = (Annotated[Any, _equals(name)], Field(None, json_schema_extra=wire(
            {"type": "string"}, f"{queryable.title}: equals (comma list: any of)")))
    for alias, name in PARAMETER_ALIASES.items():
        schema = {"type": "boolean"} if QUERYABLES[name].kind == "boolean" else {"type": "string"}
        fields[alias] = (Annotated[Any, _equals(name)], Field(None, json_schema_extra=wire(
            schema, f"Alias of {name}")))
    return fields


# Field order is the order the parameters are checked in: the standard ones, each queryable,
# then sorting, selection and the filter (a subclass's fields follow its base's).
_ItemsWithQueryables = create_model(
    "_ItemsWithQueryables", __base__=ItemsStandardQuery, **_queryable_fields()
)


class ItemsQueryModel(_ItemsWithQueryables):  # type: ignore[misc, valid-type]
    """GET /collections/flood_zones/items (and /items/{id}): every items parameter."""

    sortby: Annotated[list[tuple[str, bool]] | None, parsed(_sortby, empty_is_absent=True)] = Field(
        None, json_schema_extra=wire(
            {"type": "string"}, f"Comma list of [+|-]property; sortable: {', '.join(SORTABLE)}"))
    properties: Annotated[list[str] | None, parsed(_properties)] = Field(
        None, json_schema_extra=wire(
            {"type": "string"},
            f"Comma list of properties to return, of: {', '.join(PROPERTIES)}"))
    filter_lang: Annotated[str | None, _choice(*FILTER_LANGUAGES)] = Field(
        None, alias="filter-lang", json_schema_extra=wire(
            {"type": "string", "enum": list(FILTER_LANGUAGES)}, "Filter language"))
    filter_crs: Annotated[ApiCrs, parsed(_filter_crs)] = Field(
        CRS84, alias="filter-crs", json_schema_extra=wire(
            {"type": "string", "enum": [CRS84.uri]}, "CRS of filter geometries"))
    filter: Annotated[Any, parsed(_filter, empty_is_absent=True)] = Field(
        None, json_schema_extra=wire(
            {"type": "string"},
            "CQL2 filter (text, or JSON with filter-lang=cql2-json): comparisons, LIKE, IN, "
            "BETWEEN, IS NULL, AND/OR/NOT, S_INTERSECTS(geometry, <WKT or BBOX>); literals "
            "must have their property's type (see the queryables)"))
    f: Annotated[str | None, _choice(*PAGE_FORMATS)] = _format_choice()

    @classmethod
    def read(cls, args: Mapping[str, str], config: Mapping[str, Any] | None = None) -> Any:
        """The parameters, refusing any that is not declared (a misspelt filter would
        otherwise silently answer every zone)."""
        refuse_unknown(cls, args, f"; filterable properties are {', '.join(QUERYABLES)}")
        return super().read(args, config)

    def to_query(self, config: Mapping[str, Any]) -> features.ItemsQuery:
        """The items query these parameters ask for, with the configured page sizes."""
        # Larger requests are served at the maximum, and the next link continues from there.
        limit = config["GEOAPP_ITEMS_DEFAULT_LIMIT"]
        if self.limit is not None:
            limit = min(self.limit, config["GEOAPP_ITEMS_MAX_LIMIT"])
        query = features.ItemsQuery(
            limit=limit,
            offset=self.offset or 0,
            bbox=self.bbox,
            bbox_crs=self.bbox_crs,
            date_range=self.datetime,
            sortby=list(self.sortby or []),
            skip_geometry=self.skip_geometry,
            crs=self.crs,
            simplify=self.simplify,
            precision=self.crs.default_precision if self.precision is None else self.precision,
            cql_filter=self.filter,
        )
        if self.cursor is not None:
            if self.offset is not None:
                raise InvalidParameter(
                    "parameter 'cursor' already says where the page starts: send it or "
                    "'offset', not both")
            query.after = features.decode_cursor(self.cursor, query.sortby)
        if self.properties is not None:
            query.properties = list(self.properties)
        for key in (*QUERYABLES, *PARAMETER_ALIASES):
            value = getattr(self, key)
            if value is None:
                continue
            name = PARAMETER_ALIASES.get(key, key)
            if name == "dataset":
                query.dataset = value
            else:
                query.equals[name] = value
        return query


# --- the datasets collection ----------------------------------------------------------------


def _crs84_only(raw: str, name: str, info: ValidationInfo) -> ApiCrs:
    if parse_crs(raw, name) is not CRS84:
        raise InvalidParameter(f"parameter '{name}': datasets are served in CRS84 only")
    return CRS84


class DatasetItemQuery(QueryModel):
    """GET /collections/datasets/items/{id}: CRS84 only; nothing else to choose."""

    crs: Annotated[ApiCrs, parsed(_crs84_only)] = CRS84
    f: Annotated[str | None, _choice(*PAGE_FORMATS)] = _format_choice()

    @classmethod
    def read(cls, args: Mapping[str, str], config: Mapping[str, Any] | None = None) -> Any:
        """The parameters, refusing those the datasets collection does not take."""
        refuse_unknown(cls, args)
        return super().read(args, config)


class DatasetItemsQuery(DatasetItemQuery):
    """GET /collections/datasets/items: all datasets are answered (they are few), but paging
    values are still checked."""

    limit: Annotated[int | None, _whole(1, PG_INTEGER_MAX)] = None
    offset: Annotated[int | None, _whole(0, PG_INTEGER_MAX)] = None


# --- the package layers' collections (panels, communities, ...) -----------------------------


class LayerItemQuery(QueryModel):
    """GET /collections/{layer}/items/{id}: the output CRS and the format."""

    crs: Annotated[ApiCrs, parsed(_crs)] = Field(CRS84, json_schema_extra=wire(
        {"type": "string", "enum": CRS_URIS}, "CRS of the output"))
    f: Annotated[str | None, _choice(*PAGE_FORMATS)] = _format_choice()

    @classmethod
    def read(cls, args: Mapping[str, str], config: Mapping[str, Any] | None = None) -> Any:
        """The parameters, refusing any that is not declared (a misspelt filter would
        otherwise silently answer every feature)."""
        filterable = [name for name in cls.model_fields
                      if name not in LayerItemsStandardQuery.model_fields]
        refuse_unknown(cls, args, f"; filterable properties are {', '.join(filterable)}"
                       if filterable else "")
        return super().read(args, config)

    def layer_query(self) -> layer_features.LayerQuery:
        """The query of one feature: its output CRS."""
        return layer_features.LayerQuery(limit=1, crs=self.crs,
                                         precision=self.crs.default_precision)


class LayerItemsStandardQuery(LayerItemQuery):
    """GET /collections/{layer}/items: paging and the bbox (each layer adds its queryables)."""

    limit: PageLimit = page_limit_field()
    offset: PageOffset = page_offset_field()
    bbox_crs: BboxCrs = bbox_crs_field()
    bbox: Bbox = bbox_field()

    def to_query(self, config: Mapping[str, Any]) -> layer_features.LayerQuery:
        """The page these parameters ask for, with the configured page sizes."""
        limit = config["GEOAPP_ITEMS_DEFAULT_LIMIT"]
        if self.limit is not None:
            limit = min(self.limit, config["GEOAPP_ITEMS_MAX_LIMIT"])
        equals = {name: getattr(self, name) for name in type(self).model_fields
                  if name not in LayerItemsStandardQuery.model_fields
                  and getattr(self, name) is not None}
        return layer_features.LayerQuery(
            limit=limit, offset=self.offset or 0, bbox=self.bbox, bbox_crs=self.bbox_crs,
            crs=self.crs, precision=self.crs.default_precision, equals=equals)


def _layer_equals(queryable: features.Queryable) -> Any:
    """A layer's queryable as a parameter: equals one value of the property's type."""

    def parse(raw: str, name: str, info: ValidationInfo) -> Any:
        return queryable.parse(name, raw)

    return parsed(parse, empty_is_absent=True)


def _wire_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A queryable's schema as a query value: its type, format and bounds (a longer text
    than the column holds is no error: it matches nothing)."""
    return {key: value for key, value in schema.items()
            if key in ("type", "format", "minimum", "maximum")}


@cache
def layer_items_model(collection: layer_features.LayerCollection
                      ) -> type[LayerItemsStandardQuery]:
    """GET /collections/{layer}/items: paging, the bbox and one parameter per queryable."""
    fields: dict[str, Any] = {
        name: (Annotated[Any, _layer_equals(queryable)], Field(None, json_schema_extra=wire(
            _wire_schema(queryable.schema), f"{queryable.title}: equals")))
        for name, queryable in collection.queryables.items()
    }
    camel = "".join(part.title() for part in collection.id.split("_"))
    return create_model(f"{camel}ItemsQuery", __base__=LayerItemsStandardQuery, **fields)
