"""A small Nominatim-compatible geocoder for tests: a real HTTP server on loopback.

It answers `/search?q=..&format=jsonv2&limit=..` from a fixed gazetteer of places at the
sample's known points (every word of the query must occur in a place's name), and misbehaves
on purpose for queries naming a failure: `http500`, `notjson`, `notalist`, `slow`.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

SLOW_SECONDS = 3.0


def gazetteer(known: dict[str, dict]) -> list[dict]:
    """Nominatim jsonv2 hits at some of the sample's known points."""
    def hit(name: str, point: dict) -> dict:
        lon, lat = point["lon"], point["lat"]
        return {"display_name": name, "lon": str(lon), "lat": str(lat),
                "boundingbox": [str(lat - 0.001), str(lat + 0.001), str(lon - 0.001),
                                str(lon + 0.001)]}
    return [
        hit("12 Riverside Drive, Manasquan, NJ 08736", known["ae_with_bfe"]),
        hit("Riverside Marina, Brielle, NJ 08730", known["floodway"]),
        hit("4 Hillside Avenue, Manasquan, NJ 08736", known["x_minimal"]),
    ]


class GazetteerHandler(http.server.BaseHTTPRequestHandler):
    places: list[dict] = []
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        text = query.get("q", [""])[0].lower()
        type(self).requests.append(self.path)
        if url.path != "/search" or query.get("format") != ["jsonv2"]:
            return self.answer(400, b'{"error": "bad request"}')
        if "http500" in text:
            return self.answer(500, b"internal error")
        if "notjson" in text:
            return self.answer(200, b"<html>surprise</html>")
        if "notalist" in text:
            return self.answer(200, b'{"places": []}')
        if "slow" in text:
            time.sleep(SLOW_SECONDS)
        limit = int(query.get("limit", ["10"])[0])
        words = text.replace(",", " ").split()
        found = [p for p in self.places
                 if all(word in p["display_name"].lower() for word in words)][:limit]
        return self.answer(200, json.dumps(found).encode())

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def running_gazetteer(known: dict[str, dict]) -> Iterator[tuple[str, list[str]]]:
    """The search URL of a running gazetteer server, and the list of paths it was asked."""
    handler = type("Handler", (GazetteerHandler,), {"places": gazetteer(known), "requests": []})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/search", handler.requests
        finally:
            server.shutdown()
