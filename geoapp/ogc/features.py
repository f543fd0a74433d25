"""Flood zones as OGC API - Features items: request parameters, filters and result pages."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Integer, Select, bindparam
from sqlalchemy.orm import Session

from geoapp.db import compiled
from geoapp.db.connections import Reads, connection_of
from geoapp.db.models import Dataset, FloodZone
from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries import features as features_sql
from geoapp.db.queries import scope as scope_sql
from geoapp.errors import InvalidParameter, NotFound
from geoapp.geo.crs import CRS84, ApiCrs
from geoapp.inputs.json_input import JsonTooDeep, loads_limited
from geoapp.inputs.params import (
    PG_BIGINT_MAX,
    PG_INTEGER_MAX,
    decimal_number,
    parse_bool,
    whole_number,
)
from geoapp.nfhl.status import CANONICAL_CODES, STATUS_ORDER

COLLECTION_ID = "flood_zones"


@dataclass(frozen=True)
class Queryable:
    """A property clients may filter and sort on, with its JSON Schema."""

    column: Any
    schema: dict[str, Any]
    title: str

    def parse(self, name: str, raw: str) -> Any:
        """A query-string value converted to the property's type."""
        kind = self.schema.get("type")
        if kind == "boolean":
            return parse_bool({name: raw}, name)
        if kind == "number":
            return decimal_number(raw, name)
        if kind == "integer":
            return whole_number(raw, name, minimum=self.schema["minimum"],
                                maximum=self.schema["maximum"])
        if self.schema.get("format") == "date":
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                raise InvalidParameter(f"parameter '{name}' must be a date (YYYY-MM-DD)") from None
        return raw

    @property
    def kind(self) -> str:
        """The property's type for CQL2: string, number, integer, boolean or date."""
        if self.schema.get("format") == "date":
            return "date"
        return str(self.schema.get("type", "string"))


def _text(column: Any, title: str, **extra: Any) -> Queryable:
    return Queryable(column, {"type": "string", **extra}, title)


QUERYABLES: dict[str, Queryable] = {
    "fld_zone": _text(FloodZone.fld_zone, "Flood zone (NFHL FLD_ZONE)"),
    "zone_subty": _text(FloodZone.zone_subty, "Zone subtype (ZONE_SUBTY)"),
    "risk_status": _text(FloodZone.risk_status, "Risk status", enum=list(STATUS_ORDER)),
    "sfha_tf": Queryable(FloodZone.sfha_tf, {"type": "boolean"}, "In the SFHA (SFHA_TF)"),
    "static_bfe": Queryable(FloodZone.static_bfe, {"type": "number"}, "Base flood elevation"),
    "depth": Queryable(FloodZone.depth, {"type": "number"}, "Flood depth (AO zones)"),
    "velocity": Queryable(FloodZone.velocity, {"type": "number"}, "Flow velocity"),
    "v_datum": _text(FloodZone.v_datum, "Vertical datum of the BFE"),
    "len_unit": _text(FloodZone.len_unit, "Unit of BFE and depth"),
    "dfirm_id": _text(FloodZone.dfirm_id, "Study id (DFIRM_ID)"),
    "fld_ar_id": _text(FloodZone.fld_ar_id, "Flood area id (FLD_AR_ID)"),
    "dataset_id": Queryable(
        FloodZone.dataset_id,
        {"type": "integer", "minimum": -PG_INTEGER_MAX - 1, "maximum": PG_INTEGER_MAX},
        "Dataset id",
    ),
    "dataset": _text(Dataset.name, "Dataset name"),
    "effective_date": Queryable(
        Dataset.effective_date, {"type": "string", "format": "date"}, "Effective date of the map"
    ),
}
# Friendlier spellings accepted as query parameters.
PARAMETER_ALIASES = {"sfha": "sfha_tf", "zone": "fld_zone", "bfe": "static_bfe"}
# Properties of every feature, in output order ("attributes" holds the source's own fields).
PROPERTIES = (
    "fld_zone",
    "zone_subty",
    "risk_status",
    "sfha_tf",
    "static_bfe",
    "v_datum",
    "len_unit",
    "depth",
    "velocity",
    "vel_unit",
    "dfirm_id",
    "fld_ar_id",
    "dataset_id",
    "dataset",
    "effective_date",
    "attributes",
)
PROPERTY_COLUMNS: dict[str, Any] = {
    **{name: q.column for name, q in QUERYABLES.items()},
    "vel_unit": FloodZone.vel_unit,
    "attributes": FloodZone.attributes,
}
SORTABLE = tuple(QUERYABLES) + ("id",)
FILTER_LANGUAGES = ("cql2-text", "cql2-json")
# OFFSET is a bigint, but the next page's link adds the page size: PostgreSQL's integer
# leaves room for that and is beyond any collection's size.
MAX_OFFSET = PG_INTEGER_MAX
@dataclass
class ItemsQuery:
    """A parsed items request."""

    limit: int
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: ApiCrs = CRS84
    equals: dict[str, list[Any]] = field(default_factory=dict)
    date_range: tuple[dt.date | None, dt.date | None] | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    properties: list[str] = field(default_factory=lambda: list(PROPERTIES))
    skip_geometry: bool = False
    crs: ApiCrs = CRS84
    simplify: float | None = None
    precision: int = CRS84.default_precision
    cql_filter: ColumnElement[bool] | None = None
    dataset: int | str | None = None
    # Where the page starts when it follows a `next` link: the last row before it.
    after: PageKey | None = None


@dataclass(frozen=True)
class PageKey:
    """The sort values and id of the last row of a page, and how many rows came before the
    next one: what a `next` cursor carries."""

    values: tuple[Any, ...]
    last_id: int
    offset: int


# A cursor is a few sort values and two numbers; anything much longer was not made here.
MAX_CURSOR_LENGTH = 4096


def _key_text(value: Any) -> str | None:
    """A sort value as cursor text, read back exactly by its queryable's parser."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)  # int, or float (repr round-trips exactly)


def encode_cursor(key: PageKey, sortby: list[tuple[str, bool]]) -> str:
    """The opaque `cursor` of the page after ``key``: URL-safe, the same in every process."""
    document = {
        "o": key.offset,
        "id": key.last_id,
        "k": [[("-" if desc else "") + name, _key_text(value)]
              for (name, desc), value in zip(sortby, key.values, strict=True)],
    }
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(raw: str, sortby: list[tuple[str, bool]]) -> PageKey:
    """The page key in a `cursor`, refused unless it was made for this same order."""
    invalid = InvalidParameter(
        "parameter 'cursor' is not a cursor of this collection; follow the 'next' link "
        "as given, or page with offset"
    )
    if len(raw) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        document = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(document, dict) or set(document) != {"o", "id", "k"}:
        raise invalid
    offset, last_id, keys = document["o"], document["id"], document["k"]
    if (type(offset) is not int or not 0 <= offset <= MAX_OFFSET
            or type(last_id) is not int or not -PG_BIGINT_MAX - 1 <= last_id <= PG_BIGINT_MAX
            or not isinstance(keys, list)):
        raise invalid
    expected = [("-" if desc else "") + name for name, desc in sortby]
    if [key[0] if isinstance(key, list) and len(key) == 2 else None for key in keys] != expected:
        raise InvalidParameter(
            "parameter 'cursor' was made for another sortby; follow the 'next' link as given"
        )
    values: list[Any] = []
    for (name, _desc), (_label, text) in zip(sortby, keys, strict=True):
        if text is None:
            values.append(None)
        elif not isinstance(text, str):
            raise invalid
        elif name == "id":
            values.append(whole_number(text, "cursor", minimum=-PG_BIGINT_MAX - 1,
                                       maximum=PG_BIGINT_MAX))
        else:
            values.append(QUERYABLES[name].parse("cursor", text))
    return PageKey(tuple(values), last_id, offset)


def parse_bbox(raw: str, crs: ApiCrs) -> tuple[float, float, float, float]:
    """minx,miny,maxx,maxy in CRS84 order (EPSG:4326 bboxes come latitude first)."""
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidParameter(f"parameter 'bbox' must have 4 numbers, got {len(parts)}")
    a, b, c, d = (decimal_number(part, "bbox") for part in parts)
    x1, y1, x2, y2 = (b, a, d, c) if crs.lat_first else (a, b, c, d)
    if x1 > x2 or y1 > y2:
        raise InvalidParameter("parameter 'bbox': each minimum must not exceed its maximum")
    if crs.srid == 4326 and (abs(y1) > 90 or abs(y2) > 90 or abs(x1) > 180 or abs(x2) > 180):
        raise InvalidParameter("parameter 'bbox': longitude/latitude out of range")
    return x1, y1, x2, y2


def parse_datetime(raw: str) -> tuple[dt.date | None, dt.date | None]:
    """An instant or an interval ('a/b', '../b', 'a/..') of effective dates."""

    def day(text: str) -> dt.date | None:
        if text in ("", ".."):
            return None
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            raise InvalidParameter(
                f"parameter 'datetime': {text[:40]!r} is not an RFC 3339 date or date-time"
            ) from None

    if "/" in raw:
        start_text, end_text = raw.split("/", 1)
        start, end = day(start_text), day(end_text)
        if start and end and start > end:
            raise InvalidParameter("parameter 'datetime': the interval ends before it starts")
        return start, end
    instant = day(raw)
    if instant is None:
        raise InvalidParameter("parameter 'datetime' must not be empty")
    return instant, instant


def parse_filter(text: str, language: str, json_max_depth: int) -> ColumnElement[bool]:
    """A `filter` (CQL2-text or CQL2-JSON) as a condition, every literal checked."""
    # CQL (pygeofilter, lark, dateparser) loads on the first filtered request, not at
    # start-up: it is a third of a second for every CLI command and worker otherwise.
    from geoapp.ogc import cql

    if language == "cql2-text":
        tree = cql.parse_text(text)
    else:
        try:
            document = loads_limited(text, json_max_depth)
        except JsonTooDeep as exc:
            raise InvalidParameter(f"parameter 'filter': {exc.message}") from None
        except ValueError:
            raise InvalidParameter(
                "parameter 'filter' is not valid JSON (for CQL2-text, use filter-lang=cql2-text)"
            ) from None
        tree = cql.parse_json(document)
    properties = {
        name: cql.Property(name, q.column, q.kind) for name, q in QUERYABLES.items()
    }
    return cql.translate(tree, properties, features_sql.zones_intersecting_geojson)


def conditions(query: ItemsQuery) -> list[ColumnElement[bool]]:
    """The WHERE conditions of an items query."""
    where: list[ColumnElement[bool]] = [
        scope_sql.dataset_in_scope(scope_sql.Scope(dataset=query.dataset))
    ]
    if query.bbox is not None:
        where.append(features_sql.zones_intersecting_bbox(query.bbox, query.bbox_crs.srid))
    for name, values in query.equals.items():
        where.append(features_sql.property_matches(QUERYABLES[name].column, values))
    if query.date_range is not None:
        where.extend(features_sql.effective_between(*query.date_range))
    if query.cql_filter is not None:
        where.append(query.cql_filter)
    return where


# Rows per FETCH of a large page's server-side cursor; smaller pages are read without one.
FETCH_ROWS = 100


def reads_whole(limit: int) -> bool:
    """Whether a page of `limit` features is read in one go (no cursor, no transaction) and
    answered whole, rather than streamed through a server-side cursor."""
    return limit <= FETCH_ROWS


@dataclass
class ItemsPage:
    """One page of features: rows are (id, geometry GeoJSON text, properties JSON text).

    The rows are fetched only when iterated, through a server-side cursor, so that a web
    response can stream them after the view has returned (``session`` may be a scoped
    session that resolves to a fresh session by then).
    """

    session: Session
    query: ItemsQuery
    # The query's WHERE conditions, built once (when a statement needs them, see `conditions`).
    where: list[ColumnElement[bool]] | None = None
    number_matched: int | None = None
    returned: int = 0
    has_next: bool = False
    last_row: PageKey | None = None
    # Whether the page's own statement counts the matching rows (numberMatched) as it runs.
    counts_matched: bool = False

    @property
    def offset(self) -> int:
        """How many matching rows come before this page."""
        return self.query.after.offset if self.query.after else self.query.offset

    def conditions(self) -> list[ColumnElement[bool]]:
        """The query's WHERE conditions, built on first use."""
        if self.where is None:
            self.where = conditions(self.query)
        return self.where

    def next_key(self) -> PageKey | None:
        """Where the next page starts (known once the rows were read), or None on the last."""
        return self.last_row if self.has_next else None

    def features(self) -> Iterator[tuple[int, str | None, str]]:
        """The rows, counting them and noting whether one more page exists."""
        statement, values, template = page_statement(self.query, self.counts_matched,
                                                     self.conditions)
        connection = self.session.connection()
        rows: Iterable[Any]
        if not reads_whole(self.query.limit):
            # A server-side cursor read FETCH_ROWS rows at a time: memory follows the largest
            # zones, not the page size (a 10,000-feature page of 47 MiB adds about 30 MiB to a
            # worker). A page of at most that many rows is read in one go, as one FETCH would
            # read it, without the DECLARE, FETCH and CLOSE round trips (and transaction) a
            # cursor costs.
            rows = connection.execute(statement.execution_options(yield_per=FETCH_ROWS), values)
        elif template:
            # Read whole, straight on the driver's cursor.
            rows = compiled.run(connection, statement, values)
        else:
            # Core, on the session's connection: the rows are columns, not entities.
            rows = connection.execute(statement, values)
        sort_values = slice(3, 3 + len(self.query.sortby))
        last: Any = None
        for index, row in enumerate(rows):
            if index == 0 and self.counts_matched:
                # Rows after a cursor are counted from the cursor on.
                before = self.query.after.offset if self.query.after else 0
                self.number_matched = before + row[-1]
            if index == self.query.limit:
                self.has_next = True
                break
            self.returned += 1
            last = row
            yield row[0], row[1], row[2]
        if last is not None:
            self.last_row = PageKey(tuple(last[sort_values]), last[0],
                                    self.offset + self.returned)
        if self.number_matched is not None:
            return
        if self.returned == 0 and self.offset > 0:
            # Past the end: the rows before this page are not all matches, so only a count
            # tells (when the page was to be counted at all).
            if self.counts_matched:
                self.number_matched = self.session.connection().scalar(
                    features_sql.zone_count(self.conditions()))
        elif not self.has_next:
            # The last page tells the exact total for free.
            self.number_matched = self.offset + self.returned


def sort_keys(query: ItemsQuery) -> list[tuple[Any, bool]]:
    """(column, descending) of the requested order (the id, ascending, always ends it)."""
    return [(PROPERTY_COLUMNS.get(name, FloodZone.id), desc) for name, desc in query.sortby]


def items_statement(query: ItemsQuery, count_matched: bool = False,
                    where: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
    """The SELECT for one page, fetching one row more than the limit to detect a next page.

    The page's rows are picked first (by keyset after a `next` cursor, else by OFFSET) and
    only those are turned into GeoJSON; rows are (id, geometry, properties, *sort values),
    and with ``count_matched`` the number of matching rows (after the cursor) last. ``where``
    is the query's `conditions`, when the caller has them already.
    """
    order_by = sort_keys(query)
    where = list(where) or conditions(query)
    offset = query.offset
    if query.after is not None:
        where.append(features_sql.after_row(order_by, query.after.values, query.after.last_id))
        offset = 0
    page = features_sql.zone_page(where=where, order_by=order_by, limit=query.limit + 1,
                                  offset=offset, count_matched=count_matched)
    return features_sql.zone_features(where=[], order_by=order_by, page=page,
                                      **OutputOptions.of(query).arguments())


@dataclass(frozen=True)
class OutputOptions:
    """How features are written (properties, CRS, precision, simplification, geometry): what
    their SQL depends on besides the rows chosen."""

    properties: tuple[str, ...]
    srid: int
    lat_first: bool
    precision: int
    simplify: float | None
    skip_geometry: bool

    @classmethod
    def of(cls, query: ItemsQuery) -> OutputOptions:
        """The output options of a request."""
        return cls(tuple(query.properties), query.crs.srid, query.crs.lat_first,
                   query.precision, query.simplify, query.skip_geometry)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of `features_sql.zone_features` these options set."""
        return {
            "properties": {name: PROPERTY_COLUMNS[name] for name in self.properties},
            "srid": self.srid,
            "lat_first": self.lat_first,
            "precision": self.precision,
            "simplify": self.simplify,
            "skip_geometry": self.skip_geometry,
        }


@dataclass(frozen=True)
class PageShape:
    """What a page's SQL depends on besides its values: pages of one shape share a statement."""

    bbox_srid: int | None
    sortby: tuple[tuple[str, bool], ...]
    # After a `next` cursor: which of its sort values are NULL (they compare differently).
    keyset_nulls: tuple[bool, ...] | None
    output: OutputOptions
    count_matched: bool


# The bind parameters of a page template.
BBOX_PARAMS = ("bbox_xmin", "bbox_ymin", "bbox_xmax", "bbox_ymax")
PAGE_LIMIT, PAGE_OFFSET, AFTER_ID = "page_limit", "page_offset", "after_id"


def page_shape(query: ItemsQuery, count_matched: bool) -> PageShape | None:
    """The shape of a page whose only filters are the map's scope and a bbox, else None."""
    if filtered_by_attributes(query):
        return None
    return PageShape(
        bbox_srid=None if query.bbox is None else query.bbox_crs.srid,
        sortby=tuple(query.sortby),
        keyset_nulls=(None if query.after is None
                      else tuple(value is None for value in query.after.values)),
        output=OutputOptions.of(query),
        count_matched=count_matched,
    )


@lru_cache(maxsize=256)
def page_template(shape: PageShape) -> Select[Any]:
    """The statement of every page of a shape, its values bound at execution (`page_values`).

    Built and compiled once instead of for every request: building the clauses of a bbox
    page and computing its cache key were a third of such a request's time in Python.
    """
    order_by = [(PROPERTY_COLUMNS.get(name, FloodZone.id), desc) for name, desc in shape.sortby]
    where = [scope_sql.dataset_in_scope(scope_sql.Scope())]
    if shape.bbox_srid is not None:
        corners = tuple(bindparam(name, type_=Float) for name in BBOX_PARAMS)
        where.append(features_sql.zones_intersecting_bbox(corners, shape.bbox_srid))
    if shape.keyset_nulls is not None:
        values = [None if null else bindparam(f"after_{index}", type_=column.type)
                  for index, ((column, _), null) in enumerate(
                      zip(order_by, shape.keyset_nulls, strict=True))]
        where.append(features_sql.after_row(order_by, values,
                                            bindparam(AFTER_ID, type_=BigInteger)))
    page = features_sql.zone_page(
        where=where, order_by=order_by, limit=bindparam(PAGE_LIMIT, type_=Integer),
        offset=bindparam(PAGE_OFFSET, type_=Integer), count_matched=shape.count_matched)
    statement = features_sql.zone_features(where=[], order_by=order_by, page=page,
                                           **shape.output.arguments())
    if shape.bbox_srid is not None and not shape.sortby:
        # The box's zones are collected whole, then ordered by id: a plan for any box. Other
        # pages keep a plan for their LIMIT and OFFSET (geoapp/db/compiled.py).
        return compiled.generic_plan(statement)
    return statement


def page_values(query: ItemsQuery) -> dict[str, Any]:
    """The values of a page template's bind parameters for one request."""
    values: dict[str, Any] = {PAGE_LIMIT: query.limit + 1,
                              PAGE_OFFSET: 0 if query.after else query.offset}
    if query.bbox is not None:
        values.update(zip(BBOX_PARAMS, query.bbox, strict=True))
    if query.after is not None:
        values[AFTER_ID] = query.after.last_id
        values.update({f"after_{index}": value
                       for index, value in enumerate(query.after.values) if value is not None})
    return values


def page_statement(query: ItemsQuery, count_matched: bool,
                   where: Callable[[], list[ColumnElement[bool]]]
                   ) -> tuple[Select[Any], dict[str, Any], bool]:
    """A page's statement, its values, and whether it is a template (built once, so it may
    run on the driver's cursor, see geoapp/db/compiled.py): the shape's template when it has
    one, else the statement built for this query (from ``where``, its conditions)."""
    shape = page_shape(query, count_matched)
    if shape is None:
        return items_statement(query, count_matched, where()), {}, False
    return page_template(shape), page_values(query), True


# The planner's estimate of how many zones the map's scope alone serves, by data version and
# its change time: the same until the data changes, and otherwise an EXPLAIN (a round trip
# and a planning) on every unfiltered page. The time is part of the key because a version
# number can come back after a rollback (the tests' transactions), never with the same time.
# Bounded: versions only grow, so old entries are simply dropped.
SCOPE_ESTIMATES: dict[Hashable, float] = {}
SCOPE_ESTIMATES_KEPT = 8


def filtered_by_attributes(query: ItemsQuery) -> bool:
    """Whether a page has filters other than the map's scope and a bbox."""
    return bool(query.equals or query.date_range or query.dataset
                or query.cql_filter is not None)


def only_scope(query: ItemsQuery) -> bool:
    """Whether a page is filtered by nothing but the map's scope (the active datasets)."""
    return query.bbox is None and not filtered_by_attributes(query)


def items_page(session: Session, query: ItemsQuery, exact_count_limit: int,
               data_version: Hashable | None = None) -> ItemsPage:
    """A page of zones; numberMatched is exact when the planner expects few rows, else omitted.

    ``data_version`` (the served data's version and change time, as read by
    ``features_sql.current_data_version``) lets an unfiltered page read whole reuse the
    estimate made for that version.
    """
    where = None
    if query.bbox is not None:
        # The zones in a bbox are collected whole before the page is picked (an InitPlan,
        # see zones_intersecting), so counting them costs little more; and the planner cannot
        # estimate how many there are (it expects a handful, whatever the box): no EXPLAIN.
        counts_matched = True
    else:
        # Only pages read whole: a streamed page sends its 200 before its rows are read, and
        # its EXPLAIN, made before the response starts, is what answers a locked or failing
        # database with a 503 instead of a body cut short.
        reusable = data_version is not None and only_scope(query) and reads_whole(query.limit)
        estimate = SCOPE_ESTIMATES.get(data_version) if reusable else None
        if estimate is None:
            where = conditions(query)
            estimate = features_sql.estimated_rows(session, features_sql.zone_count(where))
            if reusable:
                if len(SCOPE_ESTIMATES) >= SCOPE_ESTIMATES_KEPT:
                    SCOPE_ESTIMATES.clear()
                SCOPE_ESTIMATES[data_version] = estimate
        counts_matched = estimate <= exact_count_limit
    # Counted by the page's statement itself (a window count): one run of the filter.
    return ItemsPage(session=session, query=query, where=where, counts_matched=counts_matched)


@lru_cache(maxsize=128)
def one_item_statement(output: OutputOptions) -> Select[Any]:
    """The single-item statement for one set of output options, built once (id bound later):
    (id, geometry, properties) and the data version with its last change time."""
    # One row by its key, whatever the id: planned once when prepared.
    return compiled.generic_plan(features_sql.with_data_version(features_sql.zone_features(
        where=[features_sql.one_zone()], order_by=[], **output.arguments())))


def one_item(session: Reads, zone_id: int, query: ItemsQuery
             ) -> tuple[tuple[int, Any], tuple[int, str | None, str]]:
    """A single zone (of any dataset status): ((data version, its time), (id, geometry text,
    properties text)), read in one statement."""
    # Built once per output: straight on the driver's cursor (geoapp/db/compiled.py).
    rows = compiled.run(connection_of(session), one_item_statement(OutputOptions.of(query)),
                        {features_sql.ZONE_ID: zone_id})
    if not rows:
        raise NotFound(f"no flood zone with id {zone_id}")
    fid, geometry, properties, version, changed_at = rows[0]
    return (int(version), changed_at), (fid, geometry, properties)


def collection_extent(session: Session) -> dict[str, Any]:
    """Spatial (CRS84) and temporal extent of the active zones, for collection metadata."""
    xmin, ymin, xmax, ymax = session.execute(datasets_sql.active_extent()).one()
    first, last = session.execute(features_sql.active_date_range()).one()
    spatial = None if xmin is None else [[float(xmin), float(ymin), float(xmax), float(ymax)]]
    return {
        "spatial": {"bbox": spatial or [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84.uri},
        "temporal": {
            "interval": [
                [first.isoformat() if first else None, last.isoformat() if last else None]
            ],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        },
    }


def queryables_schema(base_url: str) -> dict[str, Any]:
    """JSON Schema of the queryable properties (OGC API - Features Part 3)."""
    properties: dict[str, Any] = {
        "geometry": {
            "$ref": "https://geojson.org/schema/MultiPolygon.json",
            "x-ogc-role": "primary-geometry",
        },
    }
    for name, queryable in QUERYABLES.items():
        properties[name] = {"title": queryable.title, **queryable.schema}
    properties["fld_zone"]["examples"] = list(CANONICAL_CODES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url}/collections/{COLLECTION_ID}/queryables",
        "type": "object",
        "title": "Flood zones",
        "properties": properties,
        "additionalProperties": False,
    }
