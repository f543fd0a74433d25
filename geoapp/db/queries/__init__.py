"""All SQL of the application, as small builders of SQLAlchemy statements, by capability.

Callers import the module of their capability (``from geoapp.db.queries import lookup as
lookup_sql``); nothing is re-exported here. The modules:

- ``shapes``: query shapes in the stored CRS (points, envelopes, GeoJSON), ``SRID``.
- ``scope``: which datasets answer (``Scope``, ``ACTIVE``, active / in force on a date).
- ``lookup``: zones covering a point or many points, the nearest high-risk zone, parcels.
- ``features``: OGC API items: spatial filters, PostGIS-made GeoJSON pages, counts, data version.
- ``tiles``: Mapbox Vector Tiles.
- ``report_map``: the report's SVG map.
- ``datasets``: the catalog, extents, one dataset's summary, the active version of a name.
- ``imports``: a dataset's import state, retiring older versions, the pipeline's COPY SQL.
- ``exports``: export jobs and the zones they write.
- ``accounts``: users, sign-ins, API tokens, sign-in failure counters.
- ``audit``: the audit log.
- ``health``: the health check and the per-transaction statement timeout.

Geometries are stored in EPSG:4326. Query shapes (points, envelopes) are built or transformed
to 4326 so that the GiST indexes on the stored columns can be used; stored columns are never
wrapped in a function inside a WHERE clause. Values are always bound, never formatted into SQL.
"""
