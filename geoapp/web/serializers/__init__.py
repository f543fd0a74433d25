"""Everything the application sends as JSON, GeoJSON or CSV is built here, one module per
surface: ``lookup`` (determinations), ``ogc`` (features, collections, tiles, writes),
``datasets`` (imports and exports), ``accounts`` (tokens), ``common`` (dates, links, errors).

The names are also importable from the package itself.
"""

from geoapp.web.serializers.accounts import token_json
from geoapp.web.serializers.common import error_json, iso, link
from geoapp.web.serializers.datasets import dataset_state_json, export_json, rasters_json
from geoapp.web.serializers.lookup import (
    CSV_COLUMNS,
    batch_row,
    compact_report,
    dataset_json,
    exposure_json,
    nearest_json,
    permalink_args,
    places_json,
    point_report_json,
    stream_batch_csv,
    stream_batch_geojson,
    stream_batch_json,
    zone_hit_json,
)
from geoapp.web.serializers.ogc import (
    collection_json,
    created_items_json,
    dataset_feature,
    feature_collection_text,
    feature_text,
    landing_json,
    stream_feature_collection,
    tilejson_json,
    tilesets_json,
    whole_feature_collection,
)

__all__ = [
    "CSV_COLUMNS", "batch_row", "collection_json", "compact_report", "created_items_json",
    "dataset_feature", "dataset_json", "dataset_state_json", "error_json", "export_json",
    "exposure_json", "feature_collection_text", "feature_text", "iso", "landing_json", "link",
    "nearest_json", "permalink_args", "places_json", "point_report_json", "rasters_json",
    "stream_batch_csv",
    "stream_batch_geojson", "stream_batch_json", "stream_feature_collection", "tilejson_json",
    "tilesets_json", "token_json", "whole_feature_collection", "zone_hit_json",
]
