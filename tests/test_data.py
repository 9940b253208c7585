"""Validation of inputs: every bad input gets a clear htsr error, altered data a warning."""

import numpy as np
import pytest

import htsr
from htsr.data import as_sample, load_values
from htsr.errors import DataAlteredWarning, DataError, HtsrError


def test_error_hierarchy():
    assert issubclass(DataError, HtsrError)
    assert issubclass(HtsrError, ValueError)
    assert issubclass(htsr.FitError, HtsrError)


def test_nan_reports_count_and_position():
    x = np.arange(1.0, 11.0)
    x[[2, 7]] = np.nan
    with pytest.raises(DataError, match=r"2 NaN value\(s\) at index 2, 7"):
        htsr.fit(x)


def test_inf_reports_count_and_position():
    x = np.arange(1.0, 11.0)
    x[4] = np.inf
    x[9] = -np.inf
    with pytest.raises(DataError, match=r"2 infinite value\(s\) at index 4, 9"):
        htsr.fit(x)


def test_many_nans_are_summarised():
    x = np.full(100, np.nan)
    x[0] = 1.0
    with pytest.raises(DataError, match=r"99 NaN.*\(94 more\)"):
        as_sample(x)


@pytest.mark.parametrize("bad", [[], np.array([]), np.zeros((0,))])
def test_empty(bad):
    with pytest.raises(DataError, match="empty"):
        htsr.fit(bad)


def test_non_numeric():
    with pytest.raises(DataError, match="non-numeric"):
        htsr.fit(["1", "2", "x"])
    with pytest.raises(DataError, match="string"):
        htsr.fit("1 2 3")


def test_not_one_dimensional():
    with pytest.raises(DataError, match="one-dimensional"):
        htsr.fit(np.ones((3, 3)))


def test_complex_rejected():
    with pytest.raises(DataError, match="complex"):
        htsr.fit(np.array([1 + 1j, 2.0]))


def test_too_few_points():
    with pytest.raises(DataError, match="at least 2"):
        htsr.fit([5.0])


def test_constant_data():
    with pytest.raises(DataError, match="constant"):
        htsr.fit(np.full(50, 3.0))


def test_nonpositive_dropped_with_warning_that_counts():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(30), -np.ones(10), 1 + rng.pareto(1.5, 960)])
    with pytest.warns(DataAlteredWarning, match=r"dropped 40 non-positive value\(s\) of 1000 \(4%\)"):
        r = htsr.fit(x)
    assert r.n == 960
    # same answer as fitting the positive part directly
    assert r.alpha == htsr.fit(x[x > 0]).alpha


def test_all_nonpositive():
    with pytest.raises(DataError, match="no positive values"):
        htsr.fit(np.zeros(10))


def test_discrete_requires_integers():
    with pytest.raises(DataError, match=r"non-integer value\(s\) at index 1"):
        htsr.fit([1, 2.5, 3, 4], discrete=True)


def test_tail_with_one_unique_value():
    x = np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0])
    with pytest.raises(htsr.FitError, match="1 distinct value"):
        htsr.fit(x, xmin=5.0)
    with pytest.raises(htsr.FitError, match="0 point"):
        htsr.fit(x, xmin=6.0)


def test_no_eligible_candidate():
    x = np.arange(1.0, 21.0)
    with pytest.raises(htsr.FitError, match="no eligible xmin"):
        htsr.fit(x, min_tail=25)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(method="nope"), "method must be"),
        (dict(estimator="nope"), "estimator must be"),
        (dict(min_tail=1), "min_tail"),
        (dict(xmin_range=(5, 1)), "xmin_range"),
        (dict(xmax=10.0), "no xmax"),
        (dict(xmin=-1.0), "xmin must be a positive"),
        (dict(discrete="yes"), "discrete must be"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(htsr.HtsrError, match=message):
        htsr.fit(np.arange(1.0, 50.0), **kwargs)


def test_load_text_formats(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("# comment\n1, 2 3\n\n4\t5,6\n")
    assert load_values(p).tolist() == [1, 2, 3, 4, 5, 6]
    q = tmp_path / "d.npy"
    np.save(q, np.array([1.0, 2.0, 3.0, 4.0]))
    assert load_values(q).tolist() == [1, 2, 3, 4]
    np.save(q, np.array([[1.0, 2.0], [3.0, 4.0]]))  # a matrix is not a sample: refused
    with pytest.raises(DataError, match=r"shape \(2, 2\)"):
        load_values(q)


@pytest.mark.parametrize(
    "content, message",
    [("", "contains no numbers"), ("# only a comment\n", "contains no numbers"),
     ("1\n2\nabc\n", r"line 3: 'abc' is not a number")],
)
def test_load_bad_text(tmp_path, content, message):
    p = tmp_path / "bad.txt"
    p.write_text(content)
    with pytest.raises(DataError, match=message):
        load_values(p)


def test_load_missing_binary_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_values(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="directory"):
        load_values(tmp_path)
    b = tmp_path / "blob.bin"
    b.write_bytes(bytes(range(256)))
    with pytest.raises(DataError, match="not a text file"):
        load_values(b)
    e = tmp_path / "e.npy"
    np.save(e, np.array([]))
    with pytest.raises(DataError, match="empty array"):
        load_values(e)


# ---------------------------------------------------------------- subnormal values (issue 21, item 5)
def test_subnormal_data_is_refused_with_the_exact_power_of_two_that_fixes_it():
    from conftest import pareto

    x = pareto(np.random.default_rng(0), 2.5, 2000)
    tiny = x * 1e-310  # subnormal: XLA on CPU flushes these to zero (the fit gave D = 0, a wrong alpha)
    with pytest.raises(DataError, match=r"2000 subnormal value\(s\) of 2000.*np\.ldexp\(data, (\d+)\)") as info:
        htsr.fit(tiny)
    k = int(__import__("re").search(r"np\.ldexp\(data, (\d+)\)", str(info.value)).group(1))
    ref, fixed = htsr.fit(x), htsr.fit(np.ldexp(tiny, k))  # the suggested rescaling is exact in binary
    assert fixed.alpha == pytest.approx(ref.alpha, rel=1e-12, abs=0)
    assert np.ldexp(fixed.xmin, -k) == pytest.approx(ref.xmin * 1e-310, rel=1e-12)
    assert fixed.n_tail == ref.n_tail


def test_subnormal_values_are_refused_in_every_entry_point_but_negative_ones_are_dropped():
    x = np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0])
    with pytest.raises(DataError, match=r"1 subnormal value\(s\) of 11 .* at index 10"):
        as_sample(np.append(x, 1e-320))
    with pytest.raises(DataError, match="drop the values below"):  # no power of two brings both ends in range
        as_sample(np.append(x * 1e300, 1e-320))
    with pytest.warns(DataAlteredWarning, match="dropped 1 non-positive"):
        assert as_sample(np.append(x, -1e-320)).size == 10
