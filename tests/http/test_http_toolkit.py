"""The HTTP toolkit: negotiation, the one ETag/304 helper, JSON through the app's provider."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from flask import Flask, Response

from geoapp.errors import InvalidParameter
from geoapp.web import http
from geoapp.web.json_provider import COMPACT, encode


@pytest.mark.parametrize(
    ("query", "accept", "html"),
    [
        ("?f=html", "application/json", True),
        ("?f=json", "text/html", False),
        ("", "text/html,application/xhtml+xml,*/*;q=0.8", True),
        ("", "*/*", False),  # a tie goes to JSON
        ("", "application/geo+json", False),
        ("", "", False),
    ],
)
def test_wants_html(app: Flask, query: str, accept: str, html: bool) -> None:
    headers = {"Accept": accept} if accept else {}
    with app.test_request_context(f"/api/collections{query}", headers=headers):
        assert http.wants_html() is html


def test_an_unknown_format_is_refused_by_name(app: Flask) -> None:
    with app.test_request_context("/api/collections?f=xml"), pytest.raises(InvalidParameter,
                                                                           match="'f'"):
        http.wants_html()


def test_html_preference_is_judged_against_the_alternatives_given(app: Flask) -> None:
    accept = {"Accept": "application/geo+json, text/html;q=0.5"}
    with app.test_request_context("/", headers=accept):
        assert http.accept_prefers_html((http.JSON, http.GEOJSON)) is False
        assert http.accept_prefers_html((http.JSON,)) is True


def test_json_response_keeps_member_order_and_uses_the_app_provider(app: Flask) -> None:
    payload = {"type": "FeatureCollection", "b": 1, "a": "Zoné", "at": dt.date(2024, 5, 1)}
    with app.test_request_context("/"):
        response = http.json_response(payload, status=201, mimetype=http.GEOJSON)
        text = response.get_data(as_text=True)
    assert response.status_code == 201 and response.mimetype == http.GEOJSON
    assert list(json.loads(text)) == ["type", "b", "a", "at"]
    assert '"a":"Zon\\u00e9"' in text  # compact and ASCII, like every JSON body of the app
    assert text == app.json.dumps(payload, separators=COMPACT)


def test_the_encoder_refuses_values_json_has_no_form_for() -> None:
    with pytest.raises(TypeError):
        encode({"x": object()})
    assert encode({"z": 1, "a": [1, 2]}) == '{"z": 1, "a": [1, 2]}'  # as templates show it


def test_errors_are_written_by_the_same_provider(client) -> None:
    response = client.get("/api/collections/nowhere")
    assert response.status_code == 404
    assert response.get_data(as_text=True).startswith('{"error":"not_found","message":')


class Builder:
    """A response factory that counts its calls."""

    def __init__(self, response: Response | None = None) -> None:
        self.calls = 0
        self.response = response

    def __call__(self, current: http.DataVersion) -> Response:
        self.calls += 1
        return self.response or Response(f"v{current.version}", mimetype="text/plain")


def test_conditional_sets_a_weak_etag_of_the_data_version(app: Flask, session) -> None:
    build = Builder()
    with app.test_request_context("/x"):
        current = http.data_version()
        response = http.conditional(build, "k1")
    assert build.calls == 1 and response.status_code == 200
    assert response.headers["ETag"] == f'W/"{current.version}-k1"'
    assert response.headers["Cache-Control"] == http.REVALIDATE
    assert response.get_data(as_text=True) == f"v{current.version}"


def test_conditional_answers_304_without_building(app: Flask, session) -> None:
    build = Builder()
    with app.test_request_context("/x"):
        etag = f'W/"t{http.data_version().version}-1-2-3"'
    with app.test_request_context("/x", headers={"If-None-Match": etag}):
        response = http.conditional(build, "1-2-3", prefix="t", cache_control="public, max-age=60")
    assert response.status_code == 304 and build.calls == 0
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_a_stale_etag_gets_the_new_representation(app: Flask, session) -> None:
    build = Builder()
    with app.test_request_context("/x", headers={"If-None-Match": 'W/"0-k1", "other"'}):
        response = http.conditional(build, "k1")
    assert response.status_code == 200 and build.calls == 1


def test_the_key_tells_representations_apart(app: Flask, session) -> None:
    with app.test_request_context("/x?limit=1"):
        first = http.request_key()
    with app.test_request_context("/x?limit=2"):
        second = http.request_key()
        short = http.request_key(12)
    assert first != second and len(first) == 16 and second.startswith(short)


def test_a_streamed_response_is_not_read_to_check_it(app: Flask, session, make_zone) -> None:
    from shapely.geometry import box

    make_zone(box(0, 0, 1, 1))  # a write, so the data has a last-change time
    read: list[str] = []

    def chunks() -> Iterator[str]:
        read.append("started")
        yield "{}"

    build = Builder(Response(chunks(), mimetype="application/json"))
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    with app.test_request_context("/x", headers={"If-Modified-Since": later}):
        response = http.conditional(build, "k1")
        assert response.status_code == 200 and response.is_streamed and read == []
        assert response.last_modified is not None


def test_a_measured_response_honours_if_modified_since(app: Flask, session, make_zone) -> None:
    from shapely.geometry import box

    make_zone(box(0, 0, 1, 1))
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    with app.test_request_context("/x", headers={"If-Modified-Since": later}):
        response = http.conditional(Builder(), "k1")
    assert response.status_code == 304
