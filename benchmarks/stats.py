"""Aggregates over seeds and tasks with ``rliable`` (Agarwal et al. 2021, Deep RL at the Edge of the Statistical Precipice).

IQM: rliable's interquartile mean (``scipy.stats.trim_mean`` with 25% cut from each end: of n seeds, ⌊n/4⌋ are cut
at each end); intervals: rliable's stratified bootstrap, 95%, percentile method; P(ours > peer): rliable's
probability of improvement (the Mann-Whitney U statistic over seed pairs, averaged over tasks); performance profiles:
the fraction of runs above each normalised score. Score matrices are (runs, tasks), as rliable takes them.
"""

import inspect
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_REPS = 2_000
SEED = 0  # the bootstrap's own seed, so a report regenerates to the same digits


def _rliable():
    """rliable's ``library`` and ``metrics``, on arch 7 or 8.

    rliable 1.2 passes ``random_state=`` to arch's bootstrap; arch 8 renamed it ``seed``, and arch 7 (which rliable
    pins) does not import with pandas 3. On arch 8, the keyword is translated; nothing else differs for rliable's use.
    """
    import arch.bootstrap

    init = arch.bootstrap.IIDBootstrap.__init__
    if "random_state" not in inspect.signature(init).parameters and not getattr(init, "_sb3_notes_shim", False):

        def __init__(self, *args, random_state=None, **kwargs):
            kwargs.setdefault("seed", random_state)
            init(self, *args, **kwargs)

        __init__._sb3_notes_shim = True  # type: ignore[attr-defined]
        arch.bootstrap.IIDBootstrap.__init__ = __init__  # type: ignore[method-assign]
    from rliable import library, metrics

    return library, metrics


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Summary:
    """Median, IQM and the IQM's 95% interval over the seeds of one run."""

    median: float
    iqm: float
    low: float
    high: float
    n: int

    def overlaps(self, other: "Summary") -> bool:
        """Whether the two IQM intervals overlap (the report's "within noise")."""
        return self.low <= other.high and other.low <= self.high


def _random_state() -> np.random.RandomState:
    return np.random.RandomState(SEED)


def iqm(values) -> float:
    """rliable's IQM of ``values`` (all of them, as one task)."""
    _, metrics = _rliable()
    return float(metrics.aggregate_iqm(np.asarray(values, dtype=float).reshape(-1, 1)))


def aggregate_iqm(scores: dict[str, np.ndarray], reps: int = BOOTSTRAP_REPS) -> dict[str, Interval]:
    """IQM over all runs and tasks of each (runs × tasks) matrix, with its stratified-bootstrap 95% interval."""
    library, metrics = _rliable()
    point, ci = library.get_interval_estimates(
        scores, lambda x: np.array([metrics.aggregate_iqm(x)]), reps=reps, random_state=_random_state()
    )
    return {k: Interval(float(point[k][0]), float(ci[k][0, 0]), float(ci[k][1, 0])) for k in scores}


def summary(values, reps: int = BOOTSTRAP_REPS) -> Summary:
    """Median, IQM and the IQM's bootstrap 95% interval of one run's seeds."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:  # no spread to resample
        v = float(x[0])
        return Summary(v, v, v, v, len(x))
    estimate = aggregate_iqm({"x": x.reshape(-1, 1)}, reps)["x"]
    return Summary(float(np.median(x)), estimate.value, estimate.low, estimate.high, len(x))


def probability_of_improvement(ours: np.ndarray, peer: np.ndarray, reps: int = BOOTSTRAP_REPS) -> Interval:
    """P(ours > peer) over (runs × tasks) matrices, averaged over tasks, with its stratified-bootstrap 95% interval."""
    library, metrics = _rliable()
    ours, peer = ours.reshape(len(ours), -1), peer.reshape(len(peer), -1)  # one task: a column
    point, ci = library.get_interval_estimates(
        {"p": (ours, peer)}, metrics.probability_of_improvement, reps=reps, random_state=_random_state()
    )
    low, high = np.ravel(ci["p"])
    return Interval(float(point["p"]), float(low), float(high))


def performance_profile(scores: dict[str, np.ndarray], taus: np.ndarray, reps: int = BOOTSTRAP_REPS):
    """rliable's performance profile: per side, the fraction of runs scoring above each τ, and its 95% band."""
    library, _ = _rliable()
    return library.create_performance_profile(scores, taus, reps=reps)


def normalise(score: float, zero: float, one: float) -> float:
    """``score`` on the scale where ``zero`` is 0 and ``one`` is 1 (the PPO paper's and the report's normalisation)."""
    return (score - zero) / (one - zero)
