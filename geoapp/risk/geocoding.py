"""Address search through a configured Nominatim-compatible geocoder (none by default).

FloodManager itself never needs the internet: with no geocoder URL, address search answers
that it is not configured and the map takes coordinates only. With one (a public Nominatim,
or a self-hosted Nominatim/Photon-compatible `/search`), places come back as label + point.
"""

from __future__ import annotations

import functools
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from geoapp.errors import InvalidParameter, NotConfigured, UpstreamError

MAX_QUERY_CHARS = 200
MAX_ANSWER_BYTES = 1_000_000
USER_AGENT = "FloodManager (self-hosted flood map; https://github.com/floodmanager)"


@dataclass(frozen=True)
class Place:
    """One geocoder hit: a readable label and its point (WGS84), with a bounding box if known."""

    label: str
    lon: float
    lat: float
    bbox: tuple[float, float, float, float] | None


def search_places(base_url: str, query: str, *, limit: int = 5, timeout_s: float = 5.0
                  ) -> list[Place]:
    """Places matching an address or place name, best first."""
    if not base_url:
        raise NotConfigured("address search is not configured on this server "
                            "(set GEOAPP_GEOCODER_URL); search by coordinates instead",
                            code="geocoder_not_configured")
    query = " ".join(query.split())
    if not query:
        raise InvalidParameter("q: give an address or place name")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidParameter(f"q: at most {MAX_QUERY_CHARS} characters")
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        raise NotConfigured("GEOAPP_GEOCODER_URL must be an http(s) URL",
                            code="geocoder_not_configured")
    # Addresses do not move: repeated searches are answered from memory, which also keeps
    # us within public geocoders' usage policies. Failures are not cached.
    return list(_cached_search(base_url, query, limit, timeout_s))


@functools.lru_cache(maxsize=2048)
def _cached_search(base_url: str, query: str, limit: int, timeout_s: float
                   ) -> tuple[Place, ...]:
    separator = "&" if urllib.parse.urlsplit(base_url).query else "?"
    url = base_url + separator + urllib.parse.urlencode(
        {"q": query, "format": "jsonv2", "limit": limit})
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UpstreamError(f"the geocoder answered HTTP {exc.code}",
                            code="geocoder_failed") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpstreamError(f"the geocoder could not be reached ({reason})",
                            code="geocoder_failed") from None
    if len(body) > MAX_ANSWER_BYTES:
        raise UpstreamError("the geocoder's answer is too large", code="geocoder_failed")
    try:
        hits = json.loads(body)
    except ValueError:
        raise UpstreamError("the geocoder's answer is not JSON", code="geocoder_failed") from None
    if not isinstance(hits, list):
        raise UpstreamError("the geocoder's answer is not a list of places",
                            code="geocoder_failed")
    places = (place_from_hit(hit) for hit in hits[:limit])
    return tuple(place for place in places if place is not None)


def place_from_hit(hit: object) -> Place | None:
    """A Place from one Nominatim `jsonv2` hit; None when the hit is unusable."""
    if not isinstance(hit, dict):
        return None
    try:
        lon, lat = float(hit["lon"]), float(hit["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        return None
    label = str(hit.get("display_name") or hit.get("name") or f"{lat:.5f}, {lon:.5f}")
    return Place(label=label[:300], lon=lon, lat=lat, bbox=nominatim_bbox(hit.get("boundingbox")))


def nominatim_bbox(raw: object) -> tuple[float, float, float, float] | None:
    """Nominatim's [south, north, west, east] strings as (west, south, east, north)."""
    if not isinstance(raw, list) or len(raw) != 4:
        return None
    try:
        south, north, west, east = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (south, north, west, east)):
        return None
    if not (-90 <= south <= north <= 90 and -180 <= west <= 180 and -180 <= east <= 180):
        return None
    return (west, south, east, north)
