"""Page templates (ogc.features.page_template): pages of one shape share one statement, its
values bound per request, and answer exactly what the statement built for the request does."""

from __future__ import annotations

import datetime as dt
import tempfile

import pytest
from shapely.geometry import box

from geoapp.config import build_config
from geoapp.ogc import features
from geoapp.web.contract.queries import ItemsQueryModel


@pytest.fixture()
def zones(make_dataset, make_zone):
    """20 zones with repeated and missing BFEs, in two datasets."""
    older = make_dataset(name="Older FIRM", effective_date=dt.date(2019, 5, 1))
    newer = make_dataset(name="Newer FIRM", effective_date=dt.date(2021, 9, 1))
    return [make_zone(box(-74.1 + i * 0.01, 40.0, -74.09 + i * 0.01, 40.01),
                      dataset=older if i % 2 else newer, fld_zone=("AE", "X", "VE")[i % 3],
                      sfha_tf=i % 3 != 1, static_bfe=None if i % 4 == 0 else 8.0 + i % 3)
            for i in range(20)]


@pytest.fixture(scope="module")
def config(database_url):
    with tempfile.TemporaryDirectory() as instance:
        return build_config(instance, {"DATABASE_URL": database_url,
                                       "SECRET_KEY": "a-test-key-with-enough-entropy-4k2j9x"})


def parsed(config, **args) -> features.ItemsQuery:
    return ItemsQueryModel.read({k: str(v) for k, v in args.items()}, config).to_query(config)


def built_rows(session, query, count_matched):
    statement = features.items_statement(query, count_matched)
    return [tuple(row) for row in session.connection().execute(statement)]


def template_rows(session, query, count_matched):
    statement, values, template = features.page_statement(
        query, count_matched, lambda: features.conditions(query))
    assert template
    return [tuple(row) for row in session.connection().execute(statement, values)]


@pytest.mark.parametrize("args", [
    {"limit": 5},
    {"limit": 5, "offset": 7},
    {"limit": 100, "bbox": "-74.075,40.002,-74.035,40.004"},
    {"limit": 3, "offset": 2, "bbox": "-74.075,40.002,-74.035,40.004"},
    {"limit": 4, "sortby": "-static_bfe"},
    {"limit": 4, "sortby": "fld_zone,-static_bfe", "skipGeometry": "true"},
    {"limit": 6, "properties": "fld_zone", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
])
@pytest.mark.parametrize("count_matched", [False, True])
def test_a_template_answers_what_the_built_statement_does(session, zones, config, args,
                                                          count_matched):
    query = parsed(config, **args)
    expected = built_rows(session, query, count_matched)
    assert expected
    assert template_rows(session, query, count_matched) == expected


@pytest.mark.parametrize("sortby", ["", "-static_bfe", "static_bfe,-id"])
def test_cursor_pages_through_a_template_match_the_built_ones(session, zones, config, sortby):
    extra = {"sortby": sortby} if sortby else {}
    query = parsed(config, limit=4, **extra)
    seen = 0
    while True:
        page = features.ItemsPage(session=session, query=query)
        rows = [row[0] for row in page.features()]
        assert template_rows(session, query, False)[:4] == built_rows(session, query, False)[:4]
        seen += len(rows)
        key = page.next_key()
        if key is None:
            break
        # Cursors after NULL sort values are of their own shape: both are walked here.
        query = parsed(config, limit=4, cursor=features.encode_cursor(key, query.sortby),
                       **extra)
    assert seen == len(zones)


def test_pages_of_one_shape_share_one_statement(config):
    first = features.page_statement(parsed(config, limit=10, bbox="1,2,3,4"), True, list)
    other = features.page_statement(parsed(config, limit=20, bbox="5,6,7,8", offset=40),
                                    True, list)
    assert first[0] is other[0]
    assert other[1]["bbox_xmin"] == 5 and other[1]["page_offset"] == 40
    assert other[1]["page_limit"] == 21
    filtered = features.page_statement(parsed(config, limit=10, fld_zone="AE"), True,
                                       lambda: [])
    assert filtered[2] is False  # a filter of its own: built for the request
