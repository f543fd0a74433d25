"""Imports and exports of flood zone files (no Flask here; the web's part is geoapp.web.uploads).

An import goes, in order, through:

- `request`: the `ImportRequest`, one parser for the form, the API, the CLI and job JSON;
- `files`: receiving the file: content sniffed, archives checked and unpacked under limits;
- `runs`: running it: the pending dataset, progress, commit or rollback, the recorded failure;
- `pipeline`: its stages `plan`, `read`, `check`, `encode`, `load` (with `pieces`, `sources`);
- `jobs`: the queue (`jobs.queue.init_app`) and worker for large uploads and exports.

Exports: `exports` (writing files), `export_jobs` (their state); `workdirs` and
`gdal_safety` serve both directions.
"""
