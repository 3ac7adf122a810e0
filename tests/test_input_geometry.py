"""GeoJSON and GeoPackage rows whose geometry is not a point say what it is, per row."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import TINY, write_dataset
from netdiag.data.dataset import load_dataset


def complaint_outcome(ds):
    kept = ds["complaints"].set_index("complaint_id")["_row"].to_dict()
    rej = ds.rejected[ds.rejected["table"] == "complaints"]
    return kept, rej.set_index("row")


POINT = {"type": "Point", "coordinates": [-6.40, 53.355]}
GEOMETRIES = [
    ("K001", POINT, None),
    ("K002", {"type": "LineString", "coordinates": [[-6.4, 53.35], [-6.39, 53.36]]}, "geometry is a LineString, expected a Point"),
    ("K003", {"type": "Polygon", "coordinates": [[[-6.4, 53.35], [-6.39, 53.35], [-6.39, 53.36], [-6.4, 53.35]]]},
     "geometry is a Polygon, expected a Point"),
    ("K004", {"type": "MultiPoint", "coordinates": [[-6.40, 53.355]]}, None),
    ("K005", {"type": "MultiPoint", "coordinates": [[-6.40, 53.355], [-6.41, 53.356]]},
     "geometry is a MultiPoint of 2 points, expected a Point"),
    ("K006", None, "no geometry: no usable position; ask the customer for the exact place"),
    ("K007", {"type": "GeometryCollection", "geometries": []},
     "geometry is empty: no usable position; ask the customer for the exact place"),
]


def test_geojson_complaints_that_are_not_points_say_what_they_are(tmp_path):
    folder = write_dataset(tmp_path, skip=("complaints",))
    header, rows = TINY["complaints"]
    props = {k: v for k, v in zip(header, rows[0]) if k not in ("lat", "lon")}
    features = [{"type": "Feature", "properties": {**props, "complaint_id": cid}, "geometry": geom} for cid, geom, _ in GEOMETRIES]
    (folder / "complaints.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    ds = load_dataset(folder)
    kept, rej = complaint_outcome(ds)
    assert dict(zip(rej["id"], rej["reason"])) == {cid: why for cid, _, why in GEOMETRIES if why}
    assert set(kept) == {"K001", "K004"}
    assert ds["complaints"].set_index("complaint_id").loc["K004", "lat"] == pytest.approx(53.355)
    assert "_geometry" not in ds["complaints"].columns


def test_geopackage_sites_that_are_not_points_say_what_they_are(tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString, MultiPoint, Point, Polygon

    folder = write_dataset(tmp_path, skip=("sites",))
    header, rows = TINY["sites"]
    sites = pd.DataFrame(rows, columns=header).drop(columns=["lat", "lon"])
    sites = pd.concat([sites, sites.iloc[[0] * 5].assign(site_id=["S004", "S005", "S006", "S007", "S008"])], ignore_index=True)
    geometry = [Point(r[3], r[2]) for r in rows] + [
        LineString([(-6.4, 53.35), (-6.39, 53.36)]), MultiPoint([(-6.4, 53.36)]), None, Point(),
        Polygon([(-6.4, 53.35), (-6.39, 53.35), (-6.39, 53.36)])]
    gpd.GeoDataFrame(sites, geometry=geometry, crs=4326).to_file(folder / "network.gpkg", layer="sites", driver="GPKG")
    ds = load_dataset(folder)
    rej = ds.rejected[ds.rejected["table"] == "sites"]
    dismantled = "(only a site with a relocation event may have no position: dismantled)"
    assert dict(zip(rej["id"], rej["reason"])) == {
        "S004": "geometry is a LineString, expected a Point",
        "S006": f"no geometry {dismantled}",
        "S007": f"geometry is empty {dismantled}",
        "S008": "geometry is a Polygon, expected a Point",
    }
    assert set(ds["sites"]["site_id"]) == {"S001", "S002", "S003", "S005"}


def test_a_cells_layer_without_geometry_is_fine(tmp_path):
    import geopandas as gpd

    folder = write_dataset(tmp_path, skip=("cells",))
    header, rows = TINY["cells"]
    cells = pd.DataFrame(rows, columns=header).astype(str)
    gpd.GeoDataFrame(cells, geometry=[None] * len(cells), crs=4326).to_file(folder / "network.gpkg", layer="cells", driver="GPKG")
    ds = load_dataset(folder)
    assert ds.rejected.empty, ds.rejected
    assert len(ds["cells"]) == 6
