import pytest

from sb3_notes.common.kl_coef import adapt_kl_coef


@pytest.mark.parametrize(
    "kl, expected",
    [
        (0.001, 0.5),  # below target / tolerance = 0.00667: halve
        (0.0066, 0.5),
        (0.0067, 1.0),  # inside the band [0.00667, 0.015]: unchanged
        (0.01, 1.0),
        (0.015, 1.0),
        (0.0151, 2.0),  # above target * tolerance: double
        (1.0, 2.0),
    ],
)
def test_paper_rule_moves_beta_as_specified(kl, expected):
    assert adapt_kl_coef(1.0, kl, kl_target=0.01, kl_tolerance=1.5, kl_factor=2.0) == expected


def test_other_constants_reproduce_other_rules():
    # e.g. a factor 1.5 and a band of 2 (RLlib-style multipliers)
    assert adapt_kl_coef(0.2, 0.05, kl_target=0.01, kl_tolerance=2.0, kl_factor=1.5) == pytest.approx(0.3)
    assert adapt_kl_coef(0.2, 0.001, kl_target=0.01, kl_tolerance=2.0, kl_factor=1.5) == pytest.approx(0.2 / 1.5)


def test_bounds_hold_and_a_floored_beta_can_grow_again():
    beta = 1.0
    for _ in range(50):
        beta = adapt_kl_coef(beta, 0.0, 0.01, kl_coef_bounds=(1e-3, 10.0))
    assert beta == 1e-3
    assert adapt_kl_coef(beta, 1.0, 0.01, kl_coef_bounds=(1e-3, 10.0)) == 2e-3
    for _ in range(50):
        beta = adapt_kl_coef(beta, 1.0, 0.01, kl_coef_bounds=(1e-3, 10.0))
    assert beta == 10.0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(kl_target=0.0), "kl_target"),
        (dict(kl_target=0.01, kl_tolerance=0.9), "kl_tolerance"),
        (dict(kl_target=0.01, kl_factor=1.0), "kl_factor"),
    ],
)
def test_bad_constants_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        adapt_kl_coef(1.0, 0.01, **kwargs)


@pytest.mark.parametrize("kl", [float("nan"), -0.1])
def test_a_nan_or_negative_kl_is_refused_not_ignored(kl):
    with pytest.raises(ValueError, match="kl"):
        adapt_kl_coef(1.0, kl, 0.01)


def test_bad_bounds_raise():
    with pytest.raises(ValueError, match="kl_coef_bounds"):
        adapt_kl_coef(1.0, 0.01, 0.01, kl_coef_bounds=(2.0, 1.0))
