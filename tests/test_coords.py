import numpy as np
import pytest

from netdiag.data.coords import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    haversine_m,
    in_china,
    to_wgs84,
    utm_crs,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

rng = np.random.default_rng(1)
CHINA_LON = rng.uniform(75, 134, 2000)
CHINA_LAT = rng.uniform(18, 53, 2000)


def test_gcj02_offsets_are_hundreds_of_metres_in_shenzhen():
    lon, lat = wgs84_to_gcj02(114.0579, 22.5431)
    assert 300 < haversine_m(114.0579, 22.5431, lon, lat) < 800


@pytest.mark.parametrize("forward, inverse", [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)])
def test_round_trip_within_one_metre_across_china(forward, inverse):
    lon, lat = forward(CHINA_LON, CHINA_LAT)
    assert np.median(haversine_m(CHINA_LON, CHINA_LAT, lon, lat)) > 200  # the offset is real
    blon, blat = inverse(lon, lat)
    assert haversine_m(CHINA_LON, CHINA_LAT, blon, blat).max() < 1.0


@pytest.mark.parametrize("lon, lat", [(-6.26, 53.35), (144.96, -37.81), (-74.0, 40.7)])
def test_outside_china_every_system_is_wgs84(lon, lat):
    assert not in_china(lon, lat)
    for system in ("gcj02", "bd09"):
        out = to_wgs84([lon], [lat], [system])
        assert (out[0][0], out[1][0]) == (lon, lat)


def test_to_wgs84_converts_each_row_by_its_own_system():
    glon, glat = wgs84_to_gcj02(114.06, 22.54)
    blon, blat = wgs84_to_bd09(114.06, 22.54)
    lon, lat = to_wgs84([114.06, glon, blon], [22.54, glat, blat], ["wgs84", "gcj02", "bd09"])
    assert haversine_m([114.06] * 3, [22.54] * 3, lon, lat).max() < 0.01


@pytest.mark.parametrize("lon, lat, epsg", [(114.06, 22.54, 32650), (-6.26, 53.35, 32629), (144.96, -37.81, 32755)])
def test_metric_crs_comes_from_the_data(lon, lat, epsg):
    assert utm_crs([lon], [lat]).to_epsg() == epsg
