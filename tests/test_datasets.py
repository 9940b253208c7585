"""htsr.datasets: the Clauset et al. (2009) data sets load, and match Table 6.1's n, mean and max."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import htsr
from htsr import datasets
from htsr.errors import DataError

# Clauset, Shalizi & Newman (2009), Table 6.1: n, <x>, x_max (in the table's units)
TABLE_6_1 = {
    "words": (18855, 11.14, 14086),
    "terrorism": (9101, 4.35, 2749),
    "blackouts": (211, 253.87, 7500),
    "cities": (19447, 9.00, 8009),
    "fires": (203785, 0.90, 4121),
    "flares": (12773, 689.41, 231300),
    "surnames": (2753, 50.59, 2502),
    "quakes": (19302, 24.54, 63096),
    "weblinks": (241428853, 9.15, 1199466),
}


def test_names_cover_the_table():
    assert set(datasets.names()) == set(TABLE_6_1)
    assert htsr.datasets is datasets


@pytest.mark.parametrize("name", list(TABLE_6_1))
def test_each_set_matches_table_6_1(name):
    info = datasets.describe(name)
    n, mean, top = TABLE_6_1[name]
    assert info.published == (n, mean, top) and info.to_dict()["n"] == n
    x = datasets.load(name)
    s = info.published_scale
    if info.histogram:
        keep = x.values >= 1  # the table counts sites with at least one link
        v, c = x.values[keep], x.counts[keep]
        got = (int(c.sum()), float((v * c).sum() / c.sum()) * s, float(v.max()) * s)
    else:
        assert x.dtype == np.float64 and x.ndim == 1
        got = (x.size, float(x.mean()) * s, float(x.max()) * s)
        if info.discrete:
            assert np.all(x == np.round(x))
    assert got[0] == n
    assert got[1] == pytest.approx(mean, abs=0.006)  # printed to two decimals
    assert got[2] == pytest.approx(top, abs=0.5)  # printed as integers


def test_files_are_small_and_the_paths_are_gzip_text():
    total = sum(datasets.path(n).open("rb").read().__len__() for n in datasets.names())
    assert total < 3e6
    with datasets.path("blackouts").open("rb") as fh:
        first = gzip.decompress(fh.read()).split()[0]
    assert float(first) == datasets.load("blackouts")[0]


def test_unknown_name_is_a_data_error():
    with pytest.raises(DataError, match="unknown data set 'moby'"):
        datasets.describe("moby")
