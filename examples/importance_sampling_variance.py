"""Why the notes (§3) ask for p and q to stay close: the variance of an importance-sampled estimate.

Importance sampling keeps the mean, E_{x~q}[f(x) p(x)/q(x)] = E_{x~p}[f(x)], but not the variance:
Var_q[f p/q] = E_p[f² p/q] − (E_p[f])², and the ratio p/q inside the first term grows as q moves away from p.
Here p = N(0, 1), q = N(μ, 1) and f(x) = x, where everything has a closed form: E_p[f] = 0, Var_p[f] = 1,
KL(p ‖ q) = μ²/2 and

    Var_q[f p/q] = (1 + μ²) e^{μ²} = (1 + 2 KL) e^{2 KL}.

(p/q = e^{−μx + μ²/2}, so E_p[x² p/q] = e^{μ²/2} E_p[x² e^{−μx}] and E_p[x² e^{tx}] = (1 + t²) e^{t²/2}.) The script
measures the same by Monte Carlo, then estimates E_p[f] = 0 from a batch of draws of q, many times over, to show
how wide the estimates spread as the KL grows.

    python examples/importance_sampling_variance.py [--small]     # writes importance_sampling_variance.png
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _budget import budget


def log_ratio(x: np.ndarray, mu: float) -> np.ndarray:
    """log p(x)/q(x) for p = N(0, 1), q = N(μ, 1): the normalising constants cancel."""
    return -0.5 * x**2 + 0.5 * (x - mu) ** 2


def exact_variance(mu: float) -> float:
    """Var_{x~q}[x p(x)/q(x)] = (1 + μ²) e^{μ²} (E_q[x p/q] = E_p[x] = 0)."""
    return (1.0 + mu**2) * np.exp(mu**2)


def weighted_samples(mu: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of f(x) p(x)/q(x) with x ~ q: the terms whose mean is the importance-sampled estimate."""
    x = rng.normal(mu, 1.0, size=n)
    return x * np.exp(log_ratio(x, mu))


def main() -> None:
    rng = np.random.default_rng(0)
    mus = np.linspace(0.0, 2.5, 11)
    n = budget(1_000_000, 20_000)  # draws per μ for the variance
    batch, repeats = 100, budget(2_000, 200)  # estimates of E_p[f] from `batch` draws each

    kls = mus**2 / 2
    exact = np.array([exact_variance(mu) for mu in mus])
    measured = np.array([np.var(weighted_samples(mu, n, rng)) for mu in mus])
    estimates = np.array([weighted_samples(mu, batch * repeats, rng).reshape(repeats, batch).mean(axis=1) for mu in mus])

    print(f"p = N(0, 1), q = N(μ, 1), f(x) = x; {n} draws per μ; Var_p[f] = 1")
    print("    μ  KL(p‖q)  Var_q[f p/q] exact  Monte Carlo  spread of the mean of 100 draws (5-95%)")
    for mu, kl, e, m, est in zip(mus, kls, exact, measured, estimates, strict=True):
        low, high = np.percentile(est, [5, 95])
        print(f"{mu:5.2f}  {kl:7.3f}  {e:18.3f}  {m:11.3f}  [{low:+.3f}, {high:+.3f}]")

    fig, (ax_var, ax_est) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_var.semilogy(kls, exact, "k-", label=r"exact: $(1+2\,\mathrm{KL})\,e^{2\,\mathrm{KL}}$")
    ax_var.semilogy(kls, measured, "o", mfc="none", label=f"Monte Carlo, {n:,} draws")
    ax_var.axhline(1.0, color="tab:green", linestyle="--", label=r"$\mathrm{Var}_p[f]=1$: sampling p itself")
    ax_var.set_xlabel(r"$\mathrm{KL}(p\,\|\,q)=\mu^2/2$")
    ax_var.set_ylabel(r"$\mathrm{Var}_q[f\,p/q]$")
    ax_var.set_title("variance of one weighted draw", fontsize=10)
    ax_var.legend(fontsize=8)
    low, high = np.percentile(estimates, [5, 95], axis=1)
    ax_est.fill_between(kls, low, high, alpha=0.3, label="5–95% of the estimates")
    ax_est.plot(kls, np.median(estimates, axis=1), "o-", label="median estimate")
    ax_est.axhline(0.0, color="black", linewidth=1, label=r"$E_p[f]=0$")
    ax_est.set_xlabel(r"$\mathrm{KL}(p\,\|\,q)=\mu^2/2$")
    ax_est.set_ylabel(f"mean of {batch} weighted draws")
    ax_est.set_title(f"estimates of $E_p[f]$ from q, {repeats} batches per point", fontsize=10)
    ax_est.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("importance_sampling_variance.png", dpi=90)


if __name__ == "__main__":
    main()
