"""Untrusted rasters stay untrusted: rasterio's copy of GDAL keeps only the raster drivers
the app needs, a `.tif` is opened with GTiff alone, and nothing beside an upload (a side
file GDAL would read on its own) changes what is imported."""

from __future__ import annotations

import rasterio
from sqlalchemy import func, select

from geoapp.db.models import Dataset, RasterLayer
from geoapp.errors import InvalidInput
from geoapp.ingest import files, gdal_safety, jobs, runs
from geoapp.ingest.request import ImportRequest
from tests.raster_files import NAVD88, plane_dem

VRT_READING_PASSWD = b"""<VRTDataset rasterXSize="10" rasterYSize="10">
  <VRTRasterBand dataType="Byte" band="1"><SimpleSource>
    <SourceFilename relativeToVRT="0">/etc/passwd</SourceFilename>
  </SimpleSource></VRTRasterBand></VRTDataset>"""


def import_dem(session, app, path):
    request = ImportRequest.parse({"name": "untrusted dem", "kind": "dem"})
    dataset = runs.create_pending(session, request, path.name, None)
    runs.run_import(session, dataset, path, request, files.UnpackLimits(),
                    raster_target=jobs.raster_target(app))
    return dataset


def test_rasterios_gdal_keeps_only_the_raster_drivers(app) -> None:
    libraries = gdal_safety.gdal_libraries()
    assert len(libraries) == 2
    raster_lib = next(lib for lib, kept in libraries if kept == gdal_safety.RASTER_DRIVERS)
    assert set(gdal_safety.registered_drivers(raster_lib)) <= gdal_safety.RASTER_DRIVERS
    assert "GTiff" in gdal_safety.registered_drivers(raster_lib)


def test_a_vrt_named_tif_is_refused_before_gdal_sees_it(session, app, tmp_path) -> None:
    upload = tmp_path / "dem.tif"
    upload.write_bytes(VRT_READING_PASSWD)
    try:
        files.check_upload(upload, files.UnpackLimits())
    except InvalidInput as error:
        assert error.code == "wrong_content"
    else:
        raise AssertionError("a VRT named .tif was accepted")
    # And the importer, given it anyway, opens it with GTiff alone: refused, nothing kept.
    datasets = session.scalar(select(func.count()).select_from(Dataset))
    try:
        import_dem(session, app, upload)
    except InvalidInput as error:
        assert error.code == "invalid_raster"
    else:
        raise AssertionError("a VRT named .tif was imported")
    assert session.scalar(select(func.count()).select_from(Dataset)) == datasets


def test_a_side_file_beside_the_upload_is_not_read(session, app, tmp_path) -> None:
    upload = plane_dem(tmp_path, vertical=NAVD88, nodata=-9999.0)
    # GDAL's PAM side file would set another nodata value and a band scale on its own.
    (tmp_path / "dem.tif.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><NoDataValue>5</NoDataValue>'
        "<Scale>100</Scale></PAMRasterBand></PAMDataset>")
    dataset = import_dem(session, app, upload)
    layer = session.scalars(select(RasterLayer).where(RasterLayer.dataset_id == dataset.id)).one()
    assert layer.nodata == -9999.0
    with rasterio.open(jobs.raster_dir(app) / layer.file_name) as stored, \
            rasterio.open(upload) as original:
        assert stored.scales == (1.0,)
        assert (stored.read(1) == original.read(1)).all()
