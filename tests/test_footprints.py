import math

import numpy as np
import pytest
import shapely

from netdiag.engine.footprints import (
    estimate_radius_m,
    footprint_polygons,
    hata_path_loss_db,
    hata_radius_m,
    serving_pairs,
)
from netdiag.settings import Settings


def test_sector_wedge_is_twice_the_beamwidth_plus_a_mast_zone():
    poly = footprint_polygons([0.0], [0.0], [90.0], [65.0], [1000.0], [100.0])[0]
    wedge = math.pi * 1000 ** 2 * 130 / 360
    back = math.pi * 100 ** 2 * 230 / 360
    assert poly.area == pytest.approx(wedge + back, rel=0.01)
    def at(bearing, metres):
        return (metres * math.sin(math.radians(bearing)), metres * math.cos(math.radians(bearing)))
    inside = [at(90, 900), at(150, 500), at(30, 500), at(270, 80)]      # on axis, 60 deg off axis both ways, behind the mast
    outside = [at(90, 1100), at(160, 500), at(20, 500), at(270, 150)]   # too far, 70 deg off axis, behind beyond the mast zone
    assert all(poly.contains(shapely.Point(p)) for p in inside)
    assert not any(poly.contains(shapely.Point(p)) for p in outside)


def test_omni_is_a_circle():
    poly = footprint_polygons([0.0], [0.0], [np.nan], [180.0], [500.0], [100.0])[0]
    assert poly.area == pytest.approx(math.pi * 500 ** 2, rel=0.01)


def test_serving_pairs_respect_indoor_cells():
    import geopandas as gpd

    geoms = footprint_polygons([0.0, 0.0], [0.0, 0.0], [np.nan, np.nan], [180.0, 180.0], [500.0, 80.0], [0.0, 0.0])
    fp = gpd.GeoDataFrame({"fp_id": [0, 1], "indoor": [False, True], "x": [0.0, 0.0], "y": [0.0, 0.0]}, geometry=list(geoms))
    pairs = serving_pairs(fp, [10.0, 10.0], [0.0, 0.0], indoor=[False, True])
    assert sorted(map(tuple, pairs[["point", "fp_id"]].values.tolist())) == [(0, 0), (1, 0), (1, 1)]


def test_hata_matches_the_published_formula():
    # COST-231, 1800 MHz, hb 30 m, hm 1.5 m, 1 km, metropolitan: 139.2 dB
    assert float(hata_path_loss_db(1800, 1.0, urban=True)) == pytest.approx(139.2, abs=0.1)
    # Okumura-Hata, 900 MHz urban, 1 km: 126.4 dB
    assert float(hata_path_loss_db(900, 1.0, urban=True)) == pytest.approx(126.4, abs=0.2)


def test_radius_model_orders_bands_and_respects_neighbours():
    s = Settings()
    r = hata_radius_m([900, 1800, 3500], urban=[True, True, True], settings=s)
    assert r[0] > r[1] > r[2]
    est = estimate_radius_m([900, 900, 1800], [400, 5000, np.inf], indoor=[False, False, True], settings=s)
    assert est[0] == pytest.approx(400)                  # capped by the nearest other site
    assert s.radius_min_m <= est[1] <= s.radius_max_m    # sparse suburb: Hata decides
    assert est[2] == s.indoor_radius_m
