"""The empirical data sets of Clauset, Shalizi & Newman (2009), shipped with htsr.

``load(name)`` gives the data as a float64 NumPy array in the units of the
files Clauset et al. distributed (and the ``powerlaw`` package ships), or, for
a histogram set (``weblinks``), a :class:`Histogram` of values and counts.
``names()`` lists the sets; ``describe(name)`` gives a :class:`Dataset`
record: whether the data are integers, the size, the source and citation, the
scale Clauset et al. Table 6.1 used (divide by nothing, multiply by
``table_scale``) and the published summary (n, mean, max) where it exists.

Sources and licences are in ``htsr/datasets/data/README.md``.

Example
-------
>>> import htsr
>>> x = htsr.datasets.load("blackouts") * htsr.datasets.describe("blackouts").table_scale
>>> fit = htsr.fit(x)              # xmin 230, alpha 2.27 (Table 6.1: 230, 2.3(3))
"""

from __future__ import annotations

import gzip
from dataclasses import asdict, dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np

from ..errors import DataError

__all__ = ["CLAUSET_2009", "Dataset", "Histogram", "describe", "load", "names", "path"]

#: The citation common to every set.
CLAUSET_2009 = ("A. Clauset, C. R. Shalizi and M. E. J. Newman, Power-law distributions in empirical data, "
                "SIAM Review 51(4):661-703 (2009), doi:10.1137/070710111")


@dataclass(frozen=True)
class Dataset:
    """What one shipped data set is.

    Attributes
    ----------
    name : the name ``load`` takes
    file : the file under ``htsr/datasets/data/``
    discrete : Clauset et al. fit the set as discrete (integer) data; the others as continuous
        (blackouts, cities and flares hold integers too, but were fit as continuous)
    histogram : the file holds (value, count) rows (``load`` returns a :class:`Histogram`)
    n : number of observations (for a histogram, the sum of counts of values >= 1)
    quantity : what was measured, in the file's units
    table_scale : multiply the data by this to get Clauset et al. Table 6.1's units
    published : Table 6.1's ``(n, mean, max)`` as printed
    published_scale : multiply the data by this to get the units of ``published`` (the fires'
        summary columns are in hundreds of the units its xmin is in; every other set: ``table_scale``)
    source : the original source of the data, as cited by Clauset et al.
    citation : the reference to cite
    """

    name: str
    file: str
    discrete: bool
    histogram: bool
    n: int
    quantity: str
    table_scale: float
    published: tuple
    source: str
    published_scale: float
    citation: str = CLAUSET_2009

    def to_dict(self) -> dict:
        return asdict(self)


class Histogram(NamedTuple):
    """A histogram set: ``counts[i]`` observations equal to ``values[i]``."""

    values: np.ndarray
    counts: np.ndarray


def _d(name, file, discrete, n, quantity, scale, published, source, histogram=False, published_scale=None):
    return Dataset(name, file, discrete, histogram, n, quantity, scale, published, source,
                   scale if published_scale is None else published_scale)


_SETS = {d.name: d for d in (
    _d("words", "words.txt.gz", True, 18855, "frequency of occurrence of unique words in Moby Dick", 1.0,
       (18855, 11.14, 14086), "M. E. J. Newman, Contemporary Physics 46:323 (2005); text of H. Melville's Moby Dick"),
    _d("terrorism", "terrorism.txt.gz", True, 9101, "deaths in terrorist attacks worldwide, 1968-2006", 1.0,
       (9101, 4.35, 2749), "A. Clauset, M. Young and K. S. Gleditsch, J. Conflict Resolution 51:58 (2007); MIPT database"),
    _d("blackouts", "blackouts.txt.gz", False, 211, "customers affected by US electrical blackouts, 1984-2002", 1e-3,
       (211, 253.87, 7500), "North American Electrical Reliability Council (NERC), via Newman (2005)"),
    _d("cities", "cities.txt.gz", False, 19447, "human populations of US cities, 2000 census", 1e-3,
       (19447, 9.00, 8009), "US Census Bureau, 2000 census"),
    _d("fires", "fires.txt.gz", False, 203785, "sizes of wildfires on US federal land, 1986-1996 (the file's units)",
       1.0, (203785, 0.90, 4121), "US Geological Survey / National Fire Occurrence Database, via Clauset et al.",
       published_scale=1e-2),
    _d("flares", "flares.txt.gz", False, 12773, "peak gamma-ray intensity of solar flares, 1980-1989 (counts/s)", 1.0,
       (12773, 689.41, 231300), "NASA GSFC, Solar Maximum Mission HXRBS, via Newman (2005)"),
    _d("surnames", "surnames.txt.gz", False, 2753, "frequency of surnames, US 1990 census", 1e-3,
       (2753, 50.59, 2502), "US Census Bureau, 1990 census, via Newman (2005)"),
    _d("quakes", "quakes.txt.gz", False, 19302, "intensity of earthquakes in California, 1910-1992 (10^magnitude)",
       1e-3, (19302, 24.54, 63096), "Berkeley Earthquake Catalog, via Newman (2005)"),
    _d("weblinks", "weblinks.hist.gz", True, 241428853, "in-degree of web sites (links to a site), 1997 crawl", 1.0,
       (241428853, 9.15, 1199466), "Broder et al., Computer Networks 33:309 (2000), via Clauset et al.", True),
)}


def names() -> tuple:
    """The names of the shipped data sets."""
    return tuple(_SETS)


def describe(name: str) -> Dataset:
    """The :class:`Dataset` record of ``name`` (size, discreteness, scale, citation, published values)."""
    if name not in _SETS:
        raise DataError(f"unknown data set {name!r}; choose from {', '.join(_SETS)}")
    return _SETS[name]


def path(name: str):
    """The compressed file of ``name`` (a ``importlib.resources`` Traversable; gzip text)."""
    return resources.files(__name__).joinpath("data", describe(name).file)


def load(name: str):
    """The data set ``name``: a float64 array, or a :class:`Histogram` for a histogram set.

    Values are in the file's units; multiply by ``describe(name).table_scale``
    for the units of Clauset et al. Table 6.1.
    """
    info = describe(name)
    with gzip.open(path(name).open("rb"), "rt") as fh:
        arr = np.loadtxt(fh, skiprows=1 if info.histogram else 0, dtype=np.float64)
    if info.histogram:
        return Histogram(arr[:, 0].copy(), arr[:, 1].astype(np.int64))
    return arr
