"""§3's variance argument, as examples/importance_sampling_variance.py computes it: p = N(0, 1), q = N(μ, 1), f(x) = x."""

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

# the example is a script in examples/, not a package module: import it from there
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import importance_sampling_variance as example

GRID = np.linspace(-20.0, 20.0, 400_001)  # wide and fine enough for the integrands below up to μ = 3


def normal_pdf(x: np.ndarray, mean: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2) / np.sqrt(2 * np.pi)


@pytest.mark.parametrize("mu", [0.0, 0.5, 1.0, 2.0, 3.0])
def test_closed_form_variance_matches_the_integral(mu):
    # Var_q[f p/q] = ∫ f² p²/q dx − (∫ f p dx)², integrated numerically on a grid
    p = normal_pdf(GRID, 0.0)
    p_squared_over_q = np.exp(2 * np.log(p) - np.log(normal_pdf(GRID, mu)))
    second_moment = np.trapezoid(GRID**2 * p_squared_over_q, GRID)
    mean = np.trapezoid(GRID * p, GRID)
    assert example.exact_variance(mu) == pytest.approx(second_moment - mean**2, rel=1e-6)


@pytest.mark.parametrize("mu", [0.0, 0.7, 2.0])
def test_log_ratio_is_log_p_over_q_and_its_mean_under_p_is_the_kl(mu):
    p = normal_pdf(GRID, 0.0)
    x = np.array([-1.3, 0.0, 2.1])
    assert example.log_ratio(x, mu) == pytest.approx(np.log(normal_pdf(x, 0.0) / normal_pdf(x, mu)))
    # KL(p ‖ q) = E_p[log p/q] = μ²/2, the x-axis of the example's plot
    assert np.trapezoid(p * example.log_ratio(GRID, mu), GRID) == pytest.approx(mu**2 / 2, abs=1e-9)


def test_sampling_p_itself_has_the_plain_variance():
    assert example.exact_variance(0.0) == 1.0  # q = p: the weights are 1, Var_p[x] = 1


def test_variance_grows_with_the_distance_between_p_and_q():
    variances = [example.exact_variance(mu) for mu in np.linspace(0, 3, 13)]
    assert all(b > a for a, b in itertools.pairwise(variances))
    assert example.exact_variance(2.0) == pytest.approx(5 * np.e**4)  # (1 + 4) e^4


@pytest.mark.parametrize("mu", [0.0, 0.5])
def test_monte_carlo_weighted_draws_are_unbiased_with_the_closed_form_variance(mu):
    n = 400_000
    draws = example.weighted_samples(mu, n, np.random.default_rng(1))
    variance = example.exact_variance(mu)
    assert abs(draws.mean()) < 5 * np.sqrt(variance / n)  # E_q[f p/q] = E_p[f] = 0
    # the sample variance's spread from the fourth moment E_q[(f p/q)^4] = (81μ⁴ + 54μ² + 3) e^{6μ²}
    fourth = (81 * mu**4 + 54 * mu**2 + 3) * np.exp(6 * mu**2)
    assert draws.var() == pytest.approx(variance, abs=5 * np.sqrt((fourth - variance**2) / n))
