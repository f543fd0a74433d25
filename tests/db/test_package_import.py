"""Importing a whole NFHL/DFIRM package: every layer beside the zones, in one transaction.

The committed sample package (data/sample/manasquan_nfhl_package*.zip) is imported as the
CLI's load-sample does; broken packages are the sample unpacked, changed and zipped again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from geoalchemy2.shape import to_shape
from shapely.ops import unary_union
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from geoapp.cli import SAMPLE_FILE
from geoapp.db.models import (
    PACKAGE_MODELS,
    BfeLine,
    CbrsUnit,
    CommunityInfo,
    CrossSection,
    Dataset,
    FirmPanel,
    FloodZone,
    FloodZonePiece,
    Lomr,
    PackagePiece,
    PoliticalArea,
)
from geoapp.errors import InvalidInput
from geoapp.ingest import files, runs
from geoapp.ingest.request import ImportRequest
from geoapp.nfhl.layers import PACKAGE_LAYERS, FieldKind

SAMPLE_DIR = SAMPLE_FILE.parent
PACKAGE_ZIP = SAMPLE_DIR / "manasquan_nfhl_package.zip"
PACKAGE_GDB_ZIP = SAMPLE_DIR / "manasquan_nfhl_package.gdb.zip"
FOLDER = "34025C_20180103"  # the sample's folder of shapefiles inside its zip
LIMITS = files.UnpackLimits(max_uncompressed_bytes=50 << 20, max_ratio=100)

# Rows of the sample package, per table.
EXPECTED_ROWS = {
    FloodZone: 16, FirmPanel: 4, PoliticalArea: 2, CommunityInfo: 2, Lomr: 1, BfeLine: 5,
    CrossSection: 5, CbrsUnit: 1,
}
EVERY_TABLE = (Dataset, FloodZone, FloodZonePiece, *PACKAGE_MODELS.values())
BY_TABLE = {spec.table: spec for spec in PACKAGE_LAYERS}


def do_import(session: Session, path: Path, name: str = "package", **options: Any):
    """Import as load-sample does (create_pending + run_import): (dataset, report)."""
    request = ImportRequest.parse({"name": name, **options})
    dataset = runs.create_pending(session, request, path.name, None)
    return dataset, runs.run_import(session, dataset, path, request, LIMITS)


def row_counts(session: Session) -> dict[str, int]:
    """Rows of every table an import writes to."""
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in EVERY_TABLE}


def rows_of(session: Session, model: Any, dataset: Dataset) -> list[Any]:
    return list(session.scalars(select(model).where(model.dataset_id == dataset.id)
                                .order_by(model.id)))


def refused(session: Session, path: Path, code: str, **options: Any) -> str:
    """Assert an import is refused with `code` and leaves no row in any table; its message."""
    before = row_counts(session)
    with session.begin_nested():
        with pytest.raises(InvalidInput) as caught:
            do_import(session, path, **options)
        assert caught.value.code == code, caught.value.message
        session.rollback()
    assert row_counts(session) == before
    return caught.value.message


def unpack(tmp_path: Path) -> Path:
    """The sample shapefile package unpacked; its folder of layers."""
    root = tmp_path / "unpacked"
    with zipfile.ZipFile(PACKAGE_ZIP) as archive:
        archive.extractall(root)
    return root / FOLDER


def repack(folder: Path, target: Path) -> Path:
    """Zip a package folder again, under its folder name as FEMA ships it."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return target


def remove_layer(folder: Path, layer: str) -> None:
    for path in folder.glob(f"{layer}.*"):
        path.unlink()


def rewrite_table(dbf: Path, change) -> None:
    """Rewrite a .dbf table (no geometry) after `change(names, columns)` edits its fields."""
    meta, _fids, _geometry, columns = pyogrio.raw.read(dbf, read_geometry=False,
                                                       encoding="cp1252")
    names, columns = change(list(meta["fields"]), list(columns))
    for part in dbf.parent.glob(f"{dbf.stem}.*"):
        part.unlink()
    pyogrio.raw.write(str(dbf), None, columns, names, driver="ESRI Shapefile",
                      encoding="cp1252")


def without_field(field: str):
    def change(names, columns):
        keep = [i for i, name in enumerate(names) if name != field]
        return [names[i] for i in keep], [columns[i] for i in keep]
    return change


# --- the sample package -----------------------------------------------------------------------

@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_every_layer_of_the_package_is_imported(session, path) -> None:
    dataset, report = do_import(session, path)
    assert dataset.status == "ready" and report.imported == 16
    for model, expected in EXPECTED_ROWS.items():
        assert len(rows_of(session, model, dataset)) == expected, model.__tablename__
    layers = dataset.import_report["package"]["layers"]
    assert set(layers) == {"S_FIRM_PAN", "S_POL_AR", "L_COMM_INFO", "S_LOMR", "S_BFE",
                           "S_XS", "S_CBRS", "STUDY_INFO"}
    for model, expected in EXPECTED_ROWS.items():
        if model is not FloodZone:
            name = next(n for n, m in PACKAGE_MODELS.items() if m is model)
            assert layers[name]["rows"] == expected
            assert layers[name]["table"] == model.__tablename__


@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_unused_layer_is_listed_as_skipped(session, path) -> None:
    dataset, _ = do_import(session, path)
    skipped = dataset.import_report["package"]["skipped"]
    assert [Path(name).stem for name in skipped] == ["S_GEN_STRUCT"]
    assert "S_GEN_STRUCT" not in dataset.import_report["package"]["layers"]


@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_source_checksum_is_the_uploaded_file(session, path) -> None:
    dataset, _ = do_import(session, path)
    assert dataset.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    stored = session.scalar(text("SELECT source_sha256 FROM datasets WHERE id = :id"),
                            {"id": dataset.id})
    assert stored == dataset.source_sha256


@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_study_info_is_on_the_dataset_without_sentinels(session, path) -> None:
    dataset, _ = do_import(session, path)
    session.expire(dataset)
    study = dataset.study_info
    assert study["STUDY_NM"] == "MONMOUTH COUNTY, NEW JERSEY (ALL JURISDICTIONS)"
    assert (study["V_DATUM"], study["H_DATUM"], study["DFIRM_ID"]) == ("NAVD88", "NAD83", "34025C")
    # STUDY_PRE and LNDWD_VINT are NP in the file, OPP_TF is U: all null, none dropped.
    assert {"STUDY_PRE", "LNDWD_VINT", "OPP_TF"} <= set(study)
    assert study["STUDY_PRE"] is None and study["LNDWD_VINT"] is None and study["OPP_TF"] is None
    assert "NP" not in study.values() and "U" not in study.values()
    assert not any(isinstance(v, str) and ("8888-08-08" in v or "9999-09-09" in v)
                   for v in study.values())


@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_sentinels_are_null_in_typed_columns_and_verbatim_in_attributes(session, path) -> None:
    dataset, _ = do_import(session, path)
    info = {row.com_nfo_id: row for row in rows_of(session, CommunityInfo, dataset)}
    brielle, manasquan = info["34025C_2"], info["34025C_1"]
    # Brielle was never identified (8888-08-08); Manasquan's NFIP entry is not known (9999-09-09).
    assert brielle.in_id_dat is None
    assert str(brielle.attributes["IN_ID_DAT"]).startswith("8888-08-08")
    assert manasquan.in_nfip_dt is None
    assert str(manasquan.attributes["IN_NFIP_DT"]).startswith("9999-09-09")
    assert manasquan.in_id_dat == dt.date(1974, 5, 31)
    assert brielle.in_nfip_dt == dt.date(1974, 7, 19)
    assert brielle.recent_dat == manasquan.recent_dat == dt.date(2018, 1, 3)
    assert str(brielle.attributes["REVIS_3_DT"]).startswith("8888-08-08")
    assert manasquan.attributes["REPOS_ADR2"] == "NP"

    panels = {row.firm_pan: row for row in rows_of(session, FirmPanel, dataset)}
    assert set(panels) == {"34025C0451F", "34025C0452G", "34025C0453F", "34025C0454F"}
    printed = panels["34025C0453F"]
    assert printed.pnp_reason is None and printed.attributes["PNP_REASON"] == "NP"
    assert panels["34025C0451F"].pnp_reason == "No Special Flood Hazard Areas"
    assert panels["34025C0452G"].suffix == "G"
    assert panels["34025C0452G"].eff_date == dt.date(2021, 6, 15)

    areas = {row.cid: row for row in rows_of(session, PoliticalArea, dataset)}
    assert set(areas) == {"340289", "340301"}
    assert areas["340289"].pol_name1 == "BOROUGH OF BRIELLE"
    assert areas["340289"].pol_name2 is None and areas["340289"].attributes["POL_NAME2"] == "NP"
    assert areas["340289"].ani_tf is False

    sections = {row.xs_ltr: row for row in rows_of(session, CrossSection, dataset)}
    assert sections["E"].wsel_reg is None and sections["E"].strmbed_el is None
    assert sections["E"].attributes["WSEL_REG"] == -9999
    assert sections["C"].wsel_reg == 11.5

    [lomr] = rows_of(session, Lomr, dataset)
    assert (lomr.case_no, lomr.eff_date, lomr.scale) == ("19-02-1234P", dt.date(2020, 6, 15), None)
    assert lomr.attributes["SCALE"] == "NP"
    [unit] = rows_of(session, CbrsUnit, dataset)
    assert (unit.cbrs_id, unit.cbrs_typ, unit.cbrs_dt) == (
        "NJ-07P", "Otherwise Protected Area", dt.date(1990, 11, 16))
    assert sorted(row.elev for row in rows_of(session, BfeLine, dataset)) == [
        9.0, 10.0, 11.0, 12.0, 14.0]

    no_bfe = session.scalars(select(FloodZone).where(
        FloodZone.dataset_id == dataset.id, FloodZone.fld_ar_id == "34025C_9")).one()
    assert no_bfe.static_bfe is None and no_bfe.attributes["STATIC_BFE"] == -9999


@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_no_typed_column_of_any_layer_holds_a_sentinel(session, path) -> None:
    dataset, _ = do_import(session, path)
    for table, spec in BY_TABLE.items():
        for field in spec.fields:
            column = f'"{field.column}"'
            if field.kind is FieldKind.TEXT:
                sentinels = "('NP', 'U')" if field.u_is_unknown else "('NP')"
                condition = f"upper(trim({column})) IN {sentinels} OR trim({column}) = ''"
            elif field.kind is FieldKind.NUMBER:
                condition = f"{column} = -9999"
            elif field.kind is FieldKind.DATE:
                condition = f"{column} IN ('8888-08-08', '9999-09-09')"
            else:
                continue
            found = session.scalar(text(
                f"SELECT count(*) FROM {table} WHERE dataset_id = :id AND ({condition})"  # noqa: S608
            ), {"id": dataset.id})
            assert found == 0, (table, field.column)


def test_both_encodings_of_the_package_agree(session) -> None:
    shapefiles, _ = do_import(session, PACKAGE_ZIP, name="shapefiles")
    gdb, _ = do_import(session, PACKAGE_GDB_ZIP, name="gdb")
    for model in PACKAGE_MODELS.values():
        spec = BY_TABLE[model.__tablename__]
        a, b = rows_of(session, model, shapefiles), rows_of(session, model, gdb)
        assert [[getattr(r, c) for c in spec.columns()] for r in a] == [
            [getattr(r, c) for c in spec.columns()] for r in b], model.__tablename__
        if hasattr(model, "geom"):
            for left, right in zip(a, b, strict=True):
                distance = shapely.hausdorff_distance(shapely.from_wkb(bytes(left.geom.data)),
                                                      shapely.from_wkb(bytes(right.geom.data)))
                assert distance < 1e-6, model.__tablename__  # degrees: ~10 cm


def test_package_geometries_are_in_wgs84_where_the_zones_are(session) -> None:
    dataset, _ = do_import(session, PACKAGE_ZIP)
    zones = shapely.union_all([shapely.from_wkb(bytes(zone.geom.data))
                               for zone in rows_of(session, FloodZone, dataset)])
    extent = shapely.box(*zones.bounds).buffer(1e-3)  # ~100 m
    for model in (FirmPanel, PoliticalArea, Lomr, BfeLine, CrossSection, CbrsUnit):
        for row in rows_of(session, model, dataset):
            assert session.scalar(select(func.ST_SRID(model.geom))
                                  .where(model.id == row.id)) == 4326
            assert extent.contains(shapely.from_wkb(bytes(row.geom.data))), model.__tablename__


# --- refusals: nothing written anywhere -------------------------------------------------------

def test_package_without_zones_is_refused(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    remove_layer(folder, "S_FLD_HAZ_AR")
    archive = repack(folder, tmp_path / "nozones.zip")
    message = refused(session, archive, "missing_zone_layer")
    assert "S_FLD_HAZ_AR" in message and "S_FIRM_PAN" in message


def test_geodatabase_without_zones_is_refused(session, tmp_path) -> None:
    gdb = tmp_path / "34025C.gdb"
    with zipfile.ZipFile(PACKAGE_GDB_ZIP) as archive:
        archive.extractall(tmp_path / "sample")
    source = tmp_path / "sample" / "34025C.gdb"
    for name, _ in pyogrio.list_layers(source):
        if name == "S_FLD_HAZ_AR":
            continue
        meta, _fids, geometry, columns = pyogrio.raw.read(source, layer=name)
        pyogrio.raw.write(str(gdb), geometry, columns, list(meta["fields"]), layer=name,
                          driver="OpenFileGDB", crs=meta["crs"],
                          geometry_type=meta["geometry_type"] if geometry is not None else None)
    archive = tmp_path / "nozones.gdb.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in gdb.iterdir():
            bundle.write(part, f"{gdb.name}/{part.name}")
    message = refused(session, archive, "missing_zone_layer")
    assert "S_FLD_HAZ_AR" in message


def test_package_of_one_layer_and_tables_without_zones_is_refused(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    for layer in ("S_FLD_HAZ_AR", "S_POL_AR", "S_LOMR", "S_BFE", "S_XS", "S_CBRS",
                  "S_GEN_STRUCT"):
        remove_layer(folder, layer)
    # Left: S_FIRM_PAN.shp, L_COMM_INFO.dbf, STUDY_INFO.dbf.
    archive = repack(folder, tmp_path / "panels.zip")
    message = refused(session, archive, "missing_zone_layer")
    assert "S_FLD_HAZ_AR" in message


def test_layer_without_prj_refuses_the_whole_package(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    (folder / "S_BFE.prj").unlink()
    archive = repack(folder, tmp_path / "noprj.zip")
    message = refused(session, archive, "missing_crs")
    assert "S_BFE" in message
    assert "S_FLD_HAZ_AR" not in message


def test_the_same_layer_with_source_crs_is_imported(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    (folder / "S_BFE.prj").unlink()
    archive = repack(folder, tmp_path / "noprj.zip")
    dataset, _ = do_import(session, archive, source_crs="EPSG:3424")
    lines = rows_of(session, BfeLine, dataset)
    assert len(lines) == 5
    lon, lat = shapely.from_wkb(bytes(lines[0].geom.data)).centroid.coords[0]
    assert -74.2 < lon < -74.0 and 40.0 < lat < 40.2


def test_community_table_without_its_key_is_refused(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    rewrite_table(folder / "L_COMM_INFO.dbf", without_field("COM_NFO_ID"))
    archive = repack(folder, tmp_path / "nokey.zip")
    message = refused(session, archive, "layer_key_mismatch")
    assert "L_COMM_INFO" in message and "COM_NFO_ID" in message


def test_community_table_of_another_package_is_refused(session, tmp_path) -> None:
    folder = unpack(tmp_path)

    def other_keys(names, columns):
        index = names.index("COM_NFO_ID")
        columns[index] = np.array(["99999C_1", "99999C_2"], dtype=object)
        return names, columns

    rewrite_table(folder / "L_COMM_INFO.dbf", other_keys)
    archive = repack(folder, tmp_path / "otherkeys.zip")
    message = refused(session, archive, "layer_key_mismatch")
    assert "L_COMM_INFO" in message and "S_POL_AR" in message


def test_one_dangling_community_key_is_listed_not_refused(session, tmp_path) -> None:
    folder = unpack(tmp_path)

    def one_other_key(names, columns):
        columns[names.index("COM_NFO_ID")] = np.array(["34025C_1", "99999C_2"], dtype=object)
        return names, columns

    rewrite_table(folder / "L_COMM_INFO.dbf", one_other_key)
    dataset, _ = do_import(session, repack(folder, tmp_path / "dangling.zip"))
    assert dataset.import_report["package"]["dangling_community_keys"] == ["34025C_2"]


def test_layer_without_its_index_refuses_the_whole_package(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    (folder / "S_CBRS.shx").unlink()  # GDAL cannot open a shapefile without its index
    archive = repack(folder, tmp_path / "noshx.zip")
    message = refused(session, archive, "incomplete_shapefile")
    assert "S_CBRS" in message


def test_truncated_layer_refuses_the_whole_package(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    shp = folder / "S_CBRS.shp"
    shp.write_bytes(shp.read_bytes()[:150])  # the header and a few bytes of the one shape
    archive = repack(folder, tmp_path / "truncated.zip")
    message = refused(session, archive, "truncated_file")
    assert "S_CBRS" in message


# --- what is not a package --------------------------------------------------------------------

def test_a_lone_zone_layer_imports_as_before(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    for path in folder.iterdir():
        if path.stem != "S_FLD_HAZ_AR":
            path.unlink()
    archive = repack(folder, tmp_path / "zones.zip")
    before = row_counts(session)
    dataset, report = do_import(session, archive)
    assert report.imported == 16 and report.source_crs == "EPSG:3424"
    assert report.package is None
    assert (dataset.import_report or {}).get("package") is None
    assert dataset.study_info is None
    assert dataset.source_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    after = row_counts(session)
    assert after["flood_zones"] == before["flood_zones"] + 16
    for model in PACKAGE_MODELS.values():
        assert after[model.__tablename__] == before[model.__tablename__]


@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
def test_a_layer_asked_for_is_imported_alone(session, path) -> None:
    before = row_counts(session)
    dataset, report = do_import(session, path, layer="S_FLD_HAZ_AR")
    assert report.imported == 16 and report.package is None
    assert dataset.study_info is None
    after = row_counts(session)
    assert after["flood_zones"] == before["flood_zones"] + 16
    for model in PACKAGE_MODELS.values():
        assert after[model.__tablename__] == before[model.__tablename__], model.__tablename__


def test_a_folder_of_shapefiles_is_a_package_without_checksum(session, tmp_path) -> None:
    folder = unpack(tmp_path)
    dataset, _ = do_import(session, folder)
    assert len(rows_of(session, FirmPanel, dataset)) == 4
    assert dataset.source_sha256 is None  # a folder is no file to hash


# --- deleting ---------------------------------------------------------------------------------

def test_deleting_the_dataset_deletes_its_package(session) -> None:
    kept, _ = do_import(session, PACKAGE_GDB_ZIP, name="kept")
    dataset, _ = do_import(session, PACKAGE_ZIP, name="deleted")
    session.delete(dataset)
    session.commit()
    for model in PACKAGE_MODELS.values():
        assert session.scalar(select(func.count()).select_from(model)
                              .where(model.dataset_id == dataset.id)) == 0, model.__tablename__
    for model, expected in EXPECTED_ROWS.items():  # the other dataset keeps all of its own
        assert len(rows_of(session, model, kept)) == expected, model.__tablename__


def test_the_foreign_keys_cascade_in_the_database(session) -> None:
    dataset, _ = do_import(session, PACKAGE_ZIP)
    session.execute(delete(Dataset).where(Dataset.id == dataset.id))
    for model in PACKAGE_MODELS.values():
        assert session.scalar(select(func.count()).select_from(model)
                              .where(model.dataset_id == dataset.id)) == 0, model.__tablename__


def test_package_polygons_are_cut_into_pieces_that_tile_them(session) -> None:
    dataset, _ = do_import(session, PACKAGE_ZIP)
    for layer in ("S_FIRM_PAN", "S_POL_AR", "S_LOMR", "S_CBRS"):
        model = PACKAGE_MODELS[layer]
        for row in rows_of(session, model, dataset):
            pieces = session.scalars(select(PackagePiece.geom).where(
                PackagePiece.layer == layer, PackagePiece.row_id == row.id)).all()
            assert pieces, (layer, row.id)
            whole = to_shape(row.geom)
            union = unary_union([to_shape(piece) for piece in pieces])
            # The pieces cover the polygon exactly, and none has more than 128 vertices.
            assert union.symmetric_difference(whole).area <= 1e-12 * max(whole.area, 1e-9)
            assert all(len(to_shape(p).exterior.coords) <= 129 for p in pieces)
    session.delete(dataset)
    session.commit()
    assert session.scalar(select(func.count()).select_from(PackagePiece)
                          .where(PackagePiece.dataset_id == dataset.id)) == 0
