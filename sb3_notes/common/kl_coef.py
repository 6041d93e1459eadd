"""The adaptive KL-penalty coefficient β of PPO (notes §4; Schulman et al. 2017, §4)."""

from typing import Any

from sb3_notes.common.kl import KL_ROUNDING_TOLERANCE, nonnegative_kl
from sb3_notes.common.validation import check_range


def adapt_kl_coef(
    kl_coef: float,
    kl: float,
    kl_target: float,
    kl_tolerance: float = 1.5,
    kl_factor: float = 2.0,
    kl_coef_bounds: tuple[float, float] = (1e-6, 1e6),
) -> float:
    """
    One step of the PPO paper's β rule, applied after an update whose mean KL(old ‖ new) was ``kl``:

    - ``kl < kl_target / kl_tolerance``  →  β ← β / kl_factor   (the policy hardly moved: penalise less)
    - ``kl > kl_target · kl_tolerance``  →  β ← β · kl_factor   (it moved too far: penalise more)
    - otherwise β is unchanged;

    then β is clipped into ``kl_coef_bounds``. The paper's constants are tolerance 1.5 and factor 2.

    :param kl_coef: Current β
    :param kl: Measured mean KL over the rollout after the update (a value below 0 by no more than
        ``KL_ROUNDING_TOLERANCE`` is float rounding and counts as 0)
    :param kl_target: Target KL, d_targ in the paper
    :param kl_tolerance: Width of the dead band (a ratio, ≥ 1)
    :param kl_factor: Multiplicative change of β (> 1)
    :param kl_coef_bounds: (lowest, highest) β
    :return: The new β
    """
    check_range("kl_target", kl_target, 0.0, low_inclusive=False)
    check_range("kl_tolerance", kl_tolerance, 1.0)
    check_range("kl_factor", kl_factor, 1.0, low_inclusive=False)
    kl = nonnegative_kl(kl)
    if not kl >= 0:  # NaN, or negative beyond rounding: the update went wrong, never adapt β on it silently
        raise ValueError(
            f"`kl`={kl!r} is out of range; accepted: [0, inf) (down to -{KL_ROUNDING_TOLERANCE:g} counts as 0, rounding)"
        )
    check_kl_coef_bounds(kl_coef_bounds)
    low, high = kl_coef_bounds
    if kl < kl_target / kl_tolerance:
        kl_coef = kl_coef / kl_factor
    elif kl > kl_target * kl_tolerance:
        kl_coef = kl_coef * kl_factor
    return float(min(max(kl_coef, low), high))


def check_kl_coef_bounds(kl_coef_bounds: Any) -> None:
    """
    Raise unless ``kl_coef_bounds`` is a (low, high) pair of numbers with 0 < low <= high (high may be inf).

    :param kl_coef_bounds: The bounds given
    """
    if not isinstance(kl_coef_bounds, (tuple, list)) or len(kl_coef_bounds) != 2:
        raise TypeError(f"`kl_coef_bounds`={kl_coef_bounds!r} must be a (low, high) pair of numbers with 0 < low <= high")
    low, high = kl_coef_bounds
    check_range("kl_coef_bounds[0]", low, 0.0, low_inclusive=False)
    check_range("kl_coef_bounds[1]", high, 0.0, low_inclusive=False, finite=False)
    if not low <= high:
        raise ValueError(f"`kl_coef_bounds`={tuple(kl_coef_bounds)!r} must be (low, high) with 0 < low <= high")
