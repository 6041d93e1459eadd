"""The adaptive KL-penalty coefficient β of PPO (notes §四; Schulman et al. 2017, §4)."""

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
    :param kl: Measured mean KL over the rollout after the update
    :param kl_target: Target KL, d_targ in the paper
    :param kl_tolerance: Width of the dead band (a ratio, ≥ 1)
    :param kl_factor: Multiplicative change of β (> 1)
    :param kl_coef_bounds: (lowest, highest) β
    :return: The new β
    """
    check_range("kl_target", kl_target, 0.0, low_inclusive=False)
    check_range("kl_tolerance", kl_tolerance, 1.0)
    check_range("kl_factor", kl_factor, 1.0, low_inclusive=False)
    check_range("kl", kl, 0.0)  # NaN or a negative KL means the update went wrong: never adapt β on it silently
    low, high = kl_coef_bounds
    if not 0 < low <= high:
        raise ValueError(f"`kl_coef_bounds`={kl_coef_bounds!r} must be (low, high) with 0 < low <= high")
    if kl < kl_target / kl_tolerance:
        kl_coef = kl_coef / kl_factor
    elif kl > kl_target * kl_tolerance:
        kl_coef = kl_coef * kl_factor
    return float(min(max(kl_coef, low), high))
