"""The app's one JSON provider: every JSON body the app writes, and every one it reads.

Writing: views answer through ``geoapp.web.http.json_response`` (or return a dict), the error
handler likewise, and the streamed GeoJSON/JSON bodies encode their pieces with ``encode``:
one encoder, one set of options. Reading: Flask parses every request body
(``request.get_json``) and the form fields the views hand it (``current_app.json.loads``)
through this, with the nesting limit of ``geoapp.inputs.json_input``, enforced in one place.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

from geoapp.inputs.json_input import DEFAULT_MAX_DEPTH, loads_limited

# The separators of whole JSON bodies (as Flask writes a returned dict outside debug mode).
COMPACT = (",", ":")


def encode(value: Any, **options: Any) -> str:
    """JSON text as the app writes it: ASCII, members in the order they were built (spacing
    as ``json.dumps``, which templates' ``tojson`` keep; whole bodies ask for ``COMPACT``).

    Values JSON has no type for (dates, decimals, UUIDs, dataclasses) are converted as Flask
    converts them; anything else is a TypeError rather than a silently stringified object.
    """
    options.setdefault("default", DefaultJSONProvider.default)
    options.setdefault("ensure_ascii", True)
    options.setdefault("sort_keys", False)
    return json.dumps(value, **options)


class ClientJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, writing with ``encode`` and refusing input nested deeper than
    GEOAPP_JSON_MAX_DEPTH."""

    # Members stay in the order the serializers build them ("type" before "features", the
    # error code before its message); Flask's default sorts them (the JSON_SORT_KEYS setting
    # that used to turn this off was removed in Flask 2.3).
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """JSON text of a value, through the app's one encoder."""
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        return encode(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; past the depth limit, JsonTooDeep (400 invalid_json)."""
        max_depth = self._app.config.get("GEOAPP_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)
        return loads_limited(s, max_depth, **kwargs)
