"""The collection registry: what each collection supports, and the answers for the rest."""

from __future__ import annotations

import pytest

from geoapp.errors import MethodNotAllowed, NotFound
from geoapp.ogc.collections import (
    DATASETS,
    FLOOD_ZONES,
    Capability,
    CollectionRegistry,
    registry,
)

LAYERS = ["firm_panels", "communities", "lomrs", "bfe_lines", "cross_sections", "cbrs_units"]
THERE_ARE = ("there are flood_zones, datasets, firm_panels, communities, lomrs, bfe_lines, "
             "cross_sections and cbrs_units")


def test_the_served_collections_in_listing_order() -> None:
    assert registry.ids() == ["flood_zones", "datasets", *LAYERS]
    assert [c.id for c in registry] == ["flood_zones", "datasets", *LAYERS]


def test_an_unknown_collection_names_the_ones_there_are() -> None:
    with pytest.raises(NotFound) as raised:
        registry.get("zones")
    assert raised.value.message == f"no collection 'zones'; {THERE_ARE}"
    with pytest.raises(NotFound, match="^no collection 'zones'; there are"):
        registry.supporting("zones", Capability.ITEMS)


@pytest.mark.parametrize("capability", list(Capability))
def test_flood_zones_support_everything(capability: Capability) -> None:
    assert registry.supporting("flood_zones", capability) is FLOOD_ZONES


@pytest.mark.parametrize(
    ("capability", "supported"),
    [(Capability.ITEMS, True), (Capability.ITEM, True), (Capability.QUERYABLES, False),
     (Capability.TILES, False), (Capability.TRANSACTIONS, False)],
)
def test_datasets_support_reading_items_only(capability: Capability, supported: bool) -> None:
    assert DATASETS.can(capability) is supported
    if capability is Capability.TRANSACTIONS:
        return  # refused by writable(), with a 405
    if supported:
        assert registry.supporting("datasets", capability) is DATASETS
    else:
        with pytest.raises(NotFound) as raised:
            registry.supporting("datasets", capability)
        assert raised.value.message == f"collection 'datasets' has no {capability.value}"


def test_writes_go_to_the_flood_zones_only() -> None:
    assert registry.writable("flood_zones") is FLOOD_ZONES
    with pytest.raises(MethodNotAllowed) as refused:
        registry.writable("datasets")
    assert refused.value.status == 405
    assert refused.value.message == "datasets are created by imports, not through this collection"
    with pytest.raises(NotFound) as unknown:
        registry.writable("zones")
    assert unknown.value.message == "no collection 'zones'"


def test_collection_facts() -> None:
    assert FLOOD_ZONES.paged and not DATASETS.paged
    assert FLOOD_ZONES.crs[0] == DATASETS.crs[0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert len(FLOOD_ZONES.crs) == 3 and DATASETS.crs == (DATASETS.crs[0],)
    assert FLOOD_ZONES.queryables is not None and DATASETS.queryables is None
    assert DATASETS.id_max == 2**31 - 1 and FLOOD_ZONES.id_max == 2**63 - 1


def test_a_registry_of_one_names_it() -> None:
    with pytest.raises(NotFound, match="^no collection 'zones'; there are datasets$"):
        CollectionRegistry(DATASETS).get("zones")


def test_ids_are_unique() -> None:
    with pytest.raises(ValueError, match="share an id"):
        CollectionRegistry(FLOOD_ZONES, DATASETS, FLOOD_ZONES)


def test_routes_answer_from_the_registry(client) -> None:
    assert client.get("/api/collections/datasets/tiles").get_json()["message"] == (
        "collection 'datasets' has no tiles")
    assert client.get("/api/collections/datasets/queryables").get_json()["message"] == (
        "collection 'datasets' has no queryables")
    assert client.get("/api/collections/zones/items").get_json()["message"] == (
        f"no collection 'zones'; {THERE_ARE}")
    metadata = client.get("/api/collections").get_json()["collections"]
    assert [(c["id"], c["title"]) for c in metadata] == [
        (c.id, c.title) for c in registry]
