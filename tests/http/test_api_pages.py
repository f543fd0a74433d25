"""Deep pages: `next` links page by keyset (an opaque cursor), `offset` still works, and
every order walks every feature exactly once."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import box

ITEMS = "/api/collections/flood_zones/items"


@pytest.fixture()
def ties(make_dataset, make_zone, analyzed):
    """30 zones in two datasets with repeated and missing BFEs, zones and dates: ties and NULLs
    in every sort key."""
    older = make_dataset(name="Older FIRM", effective_date=dt.date(2019, 5, 1))
    newer = make_dataset(name="Newer FIRM", effective_date=dt.date(2021, 9, 1))
    zones = []
    for i in range(30):
        bfe = None if i % 4 == 0 else float(8 + i % 3) + 0.1  # ties and NULLs
        zones.append(make_zone(
            box(-74.1 + i * 0.01, 40.0, -74.09 + i * 0.01, 40.01),
            dataset=older if i % 2 else newer,
            fld_zone=("AE", "X", "VE")[i % 3],
            sfha_tf=i % 3 != 1,
            static_bfe=bfe,
        ))
    analyzed()  # numberMatched follows the planner's estimate
    return zones


def walk(client, url: str) -> tuple[list[int], list[dict]]:
    """Follow `next` from a first page; the ids in order and every page's body."""
    ids, bodies = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        bodies.append(body)
        ids += [feature["id"] for feature in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
        assert len(bodies) < 100, "the pages never end"
    return ids, bodies


@pytest.mark.parametrize("sortby", [None, "-static_bfe", "static_bfe,-id", "fld_zone,-sfha_tf",
                                    "-effective_date,static_bfe", "dataset,-static_bfe", "-id"])
def test_next_cursors_walk_every_order_exactly_once(client, ties, sortby) -> None:
    order = f"&sortby={sortby}" if sortby else ""
    whole = client.get(f"{ITEMS}?limit=1000{order}").get_json()
    expected = [feature["id"] for feature in whole["features"]]
    assert sorted(expected) == sorted(zone.id for zone in ties)
    ids, bodies = walk(client, f"{ITEMS}?limit=7{order}")
    assert ids == expected  # same order, nothing twice, nothing skipped
    assert len(bodies) == 5
    # Every next link after the first page carries a cursor, never an offset.
    for body in bodies[:-1]:
        [href] = [link["href"] for link in body["links"] if link["rel"] == "next"]
        query = parse_qs(urlsplit(href).query)
        assert "cursor" in query and "offset" not in query
    # The last page, reached by cursors, still knows the exact total.
    assert bodies[-1]["numberMatched"] == 30
    assert not any(link["rel"] == "next" for link in bodies[-1]["links"])


def test_cursor_pages_link_back_by_offset_and_to_themselves(client, ties) -> None:
    _ids, bodies = walk(client, f"{ITEMS}?limit=10&sortby=-static_bfe")
    links = {link["rel"]: link["href"] for link in bodies[1]["links"]}
    assert parse_qs(urlsplit(links["prev"]).query)["offset"] == ["0"]
    again = client.get(links["self"].replace("http://localhost", "")).get_json()
    assert [f["id"] for f in again["features"]] == [f["id"] for f in bodies[1]["features"]]
    first = client.get(links["prev"].replace("http://localhost", "")).get_json()
    assert [f["id"] for f in first["features"]] == [f["id"] for f in bodies[0]["features"]]


def test_offset_still_picks_the_same_rows(client, ties) -> None:
    whole = [f["id"] for f in client.get(f"{ITEMS}?limit=1000&sortby=-static_bfe")
             .get_json()["features"]]
    page = client.get(f"{ITEMS}?limit=5&offset=12&sortby=-static_bfe").get_json()
    assert [f["id"] for f in page["features"]] == whole[12:17]


def test_filters_carry_over_to_cursor_pages(client, ties) -> None:
    ids, _ = walk(client, f"{ITEMS}?limit=4&fld_zone=AE&bbox=-74.1,40,-73.9,40.01")
    expected = sorted(z.id for i, z in enumerate(ties) if i % 3 == 0 and i < 20)
    assert ids == expected


def cursor_of(client, url: str) -> str:
    body = client.get(url).get_json()
    [href] = [link["href"] for link in body["links"] if link["rel"] == "next"]
    return parse_qs(urlsplit(href).query)["cursor"][0]


def test_bad_cursors_are_refused_by_name(client, ties) -> None:
    good = cursor_of(client, f"{ITEMS}?limit=5&sortby=-static_bfe")
    forged = base64.urlsafe_b64encode(json.dumps(
        {"o": 5, "id": 1, "k": [["-static_bfe", "'; DROP TABLE flood_zones; --"]]}).encode()
    ).decode().rstrip("=")
    for query, fragment in [
        ("cursor=not-a-cursor", "not a cursor"),
        ("cursor=" + "A" * 5000, "too long"),
        (f"cursor={good}", "another sortby"),  # made for -static_bfe, used without
        (f"cursor={good}&sortby=static_bfe", "another sortby"),
        (f"cursor={good}&sortby=-static_bfe&offset=5", "not both"),
        (f"cursor={forged}&sortby=-static_bfe", "must be a number"),
    ]:
        response = client.get(f"{ITEMS}?limit=5&{query}")
        assert response.status_code == 400, query
        body = response.get_json()
        assert body["error"] == "invalid_parameter"
        assert "cursor" in body["message"] and fragment in body["message"], body["message"]
    assert client.get(f"{ITEMS}?limit=5&sortby=-static_bfe&cursor={good}").status_code == 200


def test_every_page_tells_the_number_matched_by_its_own_statement(client, ties) -> None:
    # 20 of the 30 zones are AE or VE; the page's statement counts them as it picks its rows,
    # so a cursor page counts from the cursor on and adds the rows before it.
    _, bodies = walk(client, f"{ITEMS}?limit=6&fld_zone=AE,VE&sortby=-static_bfe")
    assert [body["numberMatched"] for body in bodies] == [20, 20, 20, 20]
    assert sum(body["numberReturned"] for body in bodies) == 20
    # Past the end there are no rows to count with: the total is counted on its own, not
    # taken for the offset.
    past = client.get(f"{ITEMS}?limit=6&offset=40&fld_zone=AE,VE").get_json()
    assert past["numberReturned"] == 0 and past["numberMatched"] == 20
    assert client.get(f"{ITEMS}?limit=6&fld_zone=D").get_json()["numberMatched"] == 0
