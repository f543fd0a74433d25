"""The collections the OGC API serves, in one registry: what each is, what it supports, and the
domain functions that answer it.

Views ask the registry for a collection and a capability (``registry.supporting(id, TILES)``)
instead of comparing collection ids, so "which collection can do what" is written once, here,
with the answers for unknown ids and missing capabilities. No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from geoapp.db.models import Dataset
from geoapp.db.queries import datasets as datasets_sql
from geoapp.errors import MethodNotAllowed, NotFound
from geoapp.geo.crs import CRS84, SUPPORTED

# Largest ids of the id columns (zones: bigint, datasets: integer): a longer path id is a 404,
# not a database error.
from geoapp.inputs.params import PG_BIGINT_MAX as BIGINT_MAX
from geoapp.inputs.params import PG_INTEGER_MAX as INTEGER_MAX
from geoapp.ogc import features, layer_features


class Capability(StrEnum):
    """What a collection can answer beyond its metadata."""

    ITEMS = "items"
    ITEM = "item"
    QUERYABLES = "queryables"
    TILES = "tiles"
    TRANSACTIONS = "transactions"


@dataclass(frozen=True)
class Collection:
    """One collection: its metadata, its capabilities and the domain functions behind them."""

    id: str
    title: str
    description: str
    supports: frozenset[Capability]
    # What one item is called in messages ("no flood zone with id ...") and its largest id.
    item_noun: str
    id_max: int
    # CRS URIs items can be answered in; the first is the storage CRS.
    crs: tuple[str, ...]
    # True: items are paged and streamed from the database (many); False: answered whole.
    paged: bool
    # Why writes are refused, for a collection that exists but is not written through the API.
    read_only_reason: str | None = None
    # The domain functions behind the capabilities. A paged collection's one_item takes
    # (session, id, ItemsQuery) and gives PostGIS texts (id, geometry, properties) to pass
    # through; a whole one's all_items/one_item give (record, extent GeoJSON text) rows.
    extent: Callable[[Session], dict[str, Any]] | None = field(default=None, repr=False)
    queryables: Callable[[str], dict[str, Any]] | None = field(default=None, repr=False)
    all_items: Callable[[Session], list[Any]] | None = field(default=None, repr=False)
    one_item: Callable[..., Any] | None = field(default=None, repr=False)
    # A package layer (panels, communities, ...): its items, item and queryables are answered
    # by geoapp.ogc.layer_features, for every such collection alike.
    layer: layer_features.LayerCollection | None = field(default=None, repr=False)

    def can(self, capability: Capability) -> bool:
        """Whether the collection supports ``capability``."""
        return capability in self.supports


def dataset_rows(session: Session) -> list[tuple[Dataset, str | None]]:
    """Every dataset (they are few) with its extent as GeoJSON text, by id."""
    return [tuple(row) for row in session.execute(datasets_sql.datasets_with_bbox()).all()]


def dataset_row(session: Session, dataset_id: int, item_id: str) -> tuple[Dataset, str | None]:
    """One dataset with its extent as GeoJSON text, or NotFound naming the id as given."""
    row = session.execute(datasets_sql.dataset_with_bbox(dataset_id)).first()
    if row is None:
        raise NotFound(f"no dataset with id {item_id[:40]!r}")
    return tuple(row)


FLOOD_ZONES = Collection(
    id=features.COLLECTION_ID,
    title="Flood hazard zones",
    description="Flood hazard areas (NFHL S_FLD_HAZ_AR) of the active datasets",
    supports=frozenset(Capability),
    item_noun="flood zone",
    id_max=BIGINT_MAX,
    crs=tuple(crs.uri for crs in SUPPORTED),
    paged=True,
    extent=features.collection_extent,
    queryables=features.queryables_schema,
    one_item=features.one_item,
)

DATASETS = Collection(
    id="datasets",
    title="Datasets",
    description="Imported flood maps: provenance, effective date, status and extent",
    supports=frozenset({Capability.ITEMS, Capability.ITEM}),
    item_noun="dataset",
    id_max=INTEGER_MAX,
    crs=(CRS84.uri,),
    paged=False,
    read_only_reason="datasets are created by imports, not through this collection",
    all_items=dataset_rows,
    one_item=dataset_row,
)


def layer_collection(layer: layer_features.LayerCollection) -> Collection:
    """A read-only collection of an NFHL package layer."""
    return Collection(
        id=layer.id,
        title=layer.title,
        description=layer.description,
        supports=frozenset({Capability.ITEMS, Capability.ITEM, Capability.QUERYABLES}),
        item_noun=layer.item_noun,
        id_max=BIGINT_MAX,
        crs=tuple(crs.uri for crs in SUPPORTED),
        paged=True,
        read_only_reason=(f"{layer.title} come with the NFHL package they were imported "
                          "from, not through this collection"),
        extent=layer.extent,
        queryables=layer.queryables_schema,
        layer=layer,
    )


LAYER_COLLECTIONS = tuple(layer_collection(layer) for layer in layer_features.LAYERS)


class CollectionRegistry:
    """The served collections by id, in the order they are listed."""

    def __init__(self, *collections: Collection) -> None:
        self._by_id = {collection.id: collection for collection in collections}
        if len(self._by_id) != len(collections):
            raise ValueError("two collections share an id")

    def __iter__(self) -> Iterator[Collection]:
        return iter(self._by_id.values())

    def ids(self) -> list[str]:
        """The collection ids, in listing order."""
        return list(self._by_id)

    def get(self, collection_id: str) -> Collection:
        """The collection with this id, or NotFound naming the ones there are."""
        collection = self._by_id.get(collection_id)
        if collection is None:
            *others, last = self._by_id
            there_are = f"{', '.join(others)} and {last}" if others else last
            raise NotFound(f"no collection {collection_id!r}; there are {there_are}")
        return collection

    def supporting(self, collection_id: str, capability: Capability) -> Collection:
        """The collection, if it exists and supports ``capability``; else NotFound."""
        collection = self.get(collection_id)
        if not collection.can(capability):
            raise NotFound(f"collection {collection_id!r} has no {capability}")
        return collection

    def writable(self, collection_id: str) -> Collection:
        """The collection, if it takes writes: MethodNotAllowed for a read-only one."""
        collection = self._by_id.get(collection_id)
        if collection is None:
            # Shorter than get()'s message, as this answer has always been.
            raise NotFound(f"no collection {collection_id!r}")
        if not collection.can(Capability.TRANSACTIONS):
            raise MethodNotAllowed(collection.read_only_reason or
                                   f"collection {collection_id!r} cannot be written")
        return collection


registry = CollectionRegistry(FLOOD_ZONES, DATASETS, *LAYER_COLLECTIONS)
