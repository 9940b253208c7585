"""FitSpec: a typed record of how a fit was made, and replaying it (issue 11, item 3)."""

from __future__ import annotations

import numpy as np
import pytest

import htsr
from htsr import FitSpec
from htsr.errors import FitError

from conftest import pareto


@pytest.fixture(scope="module")
def xs():
    rng = np.random.default_rng(11)
    return pareto(rng, 2.4, 600), pareto(rng, 2.1, 500)


def test_spec_records_what_was_fixed_and_scanned(xs):
    x, _ = xs
    scanned = htsr.fit(x, min_tail=20)
    assert scanned.spec == FitSpec(min_tail=20)
    assert not scanned.spec.fixed_xmin
    fixed = htsr.fit(x, xmin=2.0, estimator="unbiased")
    assert fixed.spec == FitSpec(xmin=2.0, estimator="unbiased") and fixed.spec.fixed_xmin
    b = htsr.fit(x, method="bounded", xmax=50.0)
    assert (b.spec.method, b.spec.xmax, b.spec.xmax_rule) == ("bounded", 50.0, "fixed")
    assert htsr.fit(x, method="bounded").spec.xmax_rule == "max"
    d = htsr.fit(np.round(x * 3), discrete=True)
    assert d.spec.discrete is True
    assert htsr.fit(np.round(x * 3), discrete="auto").spec.discrete is True  # resolved, never "auto"


def test_replaying_a_spec_equals_passing_the_options(xs):
    x, y = xs
    for options in (dict(min_tail=20), dict(xmin_range=(1.5, 4.0)), dict(xmin=1.8),
                    dict(method="bounded", xmax=40.0), dict(method="bounded", xmin=1.5)):
        spec = htsr.fit(x, **options).spec
        replay, direct = htsr.fit(y, spec=spec), htsr.fit(y, **options)
        assert (replay.alpha, replay.xmin, replay.n_tail, replay.D) == (direct.alpha, direct.xmin,
                                                                        direct.n_tail, direct.D)
        assert replay.spec == direct.spec


def test_fit_many_gof_and_bootstrap_take_a_spec(xs):
    x, y = xs
    spec = htsr.fit(x, min_tail=30).spec
    many = htsr.fit_many([x, y], spec=spec)
    assert [m.alpha for m in many] == [htsr.fit(v, min_tail=30).alpha for v in (x, y)]
    g1 = htsr.gof(y, reps=20, seed=1, spec=spec)
    g2 = htsr.gof(y, reps=20, seed=1, min_tail=30)
    assert g1.p == g2.p and np.array_equal(g1.D_sim, g2.D_sim, equal_nan=True)
    b1 = htsr.bootstrap(y, reps=20, seed=1, spec=spec)
    b2 = htsr.bootstrap(y, reps=20, seed=1, min_tail=30)
    assert np.array_equal(b1.draws["alpha"], b2.draws["alpha"], equal_nan=True)


def test_spec_and_options_together_are_refused(xs):
    x, _ = xs
    spec = htsr.fit(x).spec
    with pytest.raises(FitError, match="either spec or fit options.*min_tail"):
        htsr.fit(x, spec=spec, min_tail=10)
    with pytest.raises(FitError, match="spec must be a FitSpec"):
        htsr.fit(x, spec={"min_tail": 10})


def test_spec_is_frozen_and_serialisable(xs):
    x, _ = xs
    spec = htsr.fit(x, xmin_range=(1.5, 4.0)).spec
    with pytest.raises(AttributeError):
        spec.min_tail = 3
    d = spec.to_dict()
    assert d["xmin_range"] == [1.5, 4.0] and d["method"] == "clauset"
    assert spec.replace(min_tail=5).min_tail == 5 and spec.min_tail is None
