"""The app's JSON provider: Flask's, reading with the nesting limit of ``geoapp.web.json_input``.

Flask parses every request body (``request.get_json``) and form field the views hand it
(``current_app.json.loads``) through this, so the limit is enforced in one place.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from geoapp.web.json_input import DEFAULT_MAX_DEPTH, loads_limited


class ClientJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, refusing JSON nested deeper than GEOAPP_JSON_MAX_DEPTH."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; past the depth limit, JsonTooDeep (400 invalid_json)."""
        max_depth = self._app.config.get("GEOAPP_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)
        return loads_limited(s, max_depth, **kwargs)
