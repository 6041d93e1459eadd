"""Turn finished runs into the markdown report (one table per pair) and one learning-curve PNG per pair and env."""

import datetime
import os
import platform
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.runner import load_results, summary
from benchmarks.specs import SUITES, EnvCase, Pair


def machine_info() -> dict[str, str]:
    import gymnasium
    import stable_baselines3
    import torch

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    from sb3_notes.version import __version__

    # The package's version, which a reader can install; a commit hash names nothing outside this repository
    return {
        "date": datetime.date.today().isoformat(),
        "sb3-notes": __version__,
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "stable-baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "torch threads per run": "1 (torch.set_num_threads(1))",
    }


def _group(results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[dict[str, Any]]]]:
    groups: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        groups[(r["pair"], r["env_id"])][r["side"]].append(r)
    return groups


def throughput_ratio(ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> float | None:
    """Median over seeds of ours/peer steps per second, pairing runs with the same seed."""
    peer_by_seed = {r["seed"]: r for r in peer}
    ratios = [r["steps_per_second"] / peer_by_seed[r["seed"]]["steps_per_second"] for r in ours if r["seed"] in peer_by_seed]
    return float(np.median(ratios)) if ratios else None


COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:red", "tab:brown")


def plot_curves(
    runs: dict[str, list[dict[str, Any]]], title: str, path: Path, references: dict[str, float] | None = None
) -> None:
    """Median and 25-75% band of each side's curve over seeds (the peer in orange), and reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ours = [side for side in runs if side != "peer"]
    for side, color in [*zip(ours, COLORS, strict=False), ("peer", "tab:orange")]:
        side_runs = [r for r in runs.get(side, []) if r["curve"]]
        if not side_runs:
            continue
        n = min(len(r["curve"]) for r in side_runs)
        steps = np.array([s for s, _ in side_runs[0]["curve"][:n]])
        values = np.array([[v for _, v in r["curve"][:n]] for r in side_runs])
        label = f"{side_runs[0]['algo']} ({'peer' if side == 'peer' else 'ours'}, {len(side_runs)} seeds)"
        ax.plot(steps, np.median(values, axis=0), color=color, label=label)
        ax.fill_between(steps, np.percentile(values, 25, axis=0), np.percentile(values, 75, axis=0), color=color, alpha=0.2)
    for (name, value), style in zip((references or {}).items(), ("--", ":"), strict=False):
        ax.axhline(value, color="black", linestyle=style, linewidth=1, label=f"{name}: {value:.3f}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("return of the greedy policy (exact)" if references else "deterministic return")
    ax.set_title(f"{title} — median, 25–75% band", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(s: dict[str, float], digits: int = 1) -> str:
    return f"{s['median']:.{digits}f} / {s['iqm']:.{digits}f} [{s['low']:.{digits}f}, {s['high']:.{digits}f}]"


def _references(case: EnvCase | None) -> dict[str, float]:
    """A tabular case's DP optimum and the score of π* (the optimal stationary policy) within the time limit."""
    if case is None:
        return {}
    from benchmarks.tabular import exact_score

    scorer = exact_score(case.env_id, case.eval_horizon)
    return {"DP optimum": scorer.optimum(), "π* (stationary)": scorer.stationary_optimum()}


def _pair_section(pair_name: str, pair: Pair | None, groups: dict, plot_dir: Path, report: Path) -> list[str]:
    """The markdown of one pair: its table (a row per env, and per learner when it has several), verdicts, plots."""
    tabular = pair is not None and pair.tabular
    digits = 3 if tabular else 1
    lines = [f"## {pair_name}", ""]
    if pair is not None and pair.notes:
        lines += [pair.notes, ""]
    refs_header = " DP optimum | π* |" if tabular else ""
    lines += [
        f"| env | budget | seeds | ours | peer |{refs_header} target (ours) | met | throughput ours/peer "
        "| peak MB ours / peer |",
        "|---|---|---|---|---|" + ("---|---|" if tabular else "") + "---|---|---|---|",
    ]
    ratios: dict[tuple[str, str], float] = {}
    plots = []
    for (p, env_id), runs in sorted(groups.items()):
        if p != pair_name:
            continue
        case = next((c for c in pair.cases if c.env_id == env_id), None) if pair else None
        target = case.target if case else None
        refs = _references(case) if tabular else {}
        peer = runs.get("peer", [])
        s_peer = summary([r["final_return"] for r in peer]) if peer else None
        peer_cell = f"{peer[0]['algo']}: {_fmt(s_peer, digits)}" if s_peer else "—"
        our_sides = [side for side in (pair.sides if pair else runs) if side != "peer" and runs.get(side)]
        for side in our_sides:
            ours = runs[side]
            s_ours = summary([r["final_return"] for r in ours])
            met = "—" if target is None else ("yes" if target.met(s_ours["median"]) else "**no**")
            ratio = throughput_ratio(ours, peer)
            if ratio is not None:
                ratios[(side, env_id)] = ratio
            mem = f"{np.median([r['peak_rss_mb'] for r in ours]):.0f} / " + (
                f"{np.median([r['peak_rss_mb'] for r in peer]):.0f}" if peer else "—"
            )
            refs_cells = "".join(f" {v:.3f} |" for v in refs.values())
            lines.append(
                f"| {env_id} | {ours[0]['budget']:,} | {len(ours)} | {ours[0]['algo']}: {_fmt(s_ours, digits)} | "
                f"{peer_cell} |{refs_cells} {target or '—'} | {met} | {'—' if ratio is None else f'{ratio:.2f}×'} | {mem} |"
            )
        plot = plot_dir / f"{pair_name}_{env_id}.png"
        plot_curves(runs, f"{pair_name} on {env_id}", plot, refs)
        plots.append(f"![{pair_name} on {env_id}]({plot.relative_to(report.parent).as_posix()})")
    lines.append("")
    if pair is not None and pair.throughput_target is not None and ratios:
        scope = {k: v for k, v in ratios.items() if pair.throughput_scope is None or k == pair.throughput_scope}
        if scope:
            worst = min(scope.values())
            verdict = "met" if worst >= pair.throughput_target else "**missed**"
            where = "" if pair.throughput_scope is None else f" ({' on '.join(pair.throughput_scope)})"
            lines += [
                f"Throughput target ({pair.throughput_source}): ≥ {pair.throughput_target:g}× the peer{where}; "
                f"measured {', '.join(f'{r:.2f}×' for r in scope.values())} — {verdict}.",
                "",
            ]
    return [*lines, *plots, ""]


def write_report(out: Path, report: Path, suite: str = "full") -> str:
    """Write ``report`` (markdown) and its plots (next to it, in ``<report stem>/``); return the markdown."""
    results = load_results(out)
    groups = _group(results)
    pairs = {pair.name: pair for pair in SUITES[suite]["pairs"]()}
    plot_dir = report.parent / report.stem
    lines = [
        "# Benchmarks",
        "",
        f"Suite `{suite}`, produced by `python -m benchmarks.run --suite {suite}`. Returns are the deterministic policy's "
        "mean return over the final evaluation episodes (tabular: the greedy policy's exact expected return); per pair "
        "and env: median / IQM [bootstrap 95% interval of the IQM] over seeds, where the IQM (interquartile mean) is "
        "the mean of the middle 50% of the seeds, the seeds at the quartiles counted in part. Throughput is "
        "environment steps per second of training (evaluation excluded), as the median over seeds of ours/peer with "
        "both sides run side by side in the same suite run. Memory is the peak resident set of the run's process.",
        "",
        *(
            [
                "**The quick suite only checks the harness**: the first env of each pair, a budget of 2,048 steps and no "
                "targets. Its returns say nothing about the algorithms; the full suite's report does.",
                "",
            ]
            if suite == "quick"
            else []
        ),
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine_info().items()],
        "",
    ]
    measured = {p for p, _ in groups}
    for pair_name in dict.fromkeys([*pairs, *sorted(measured)]):  # the suite's order, then any other pair on disk
        if pair_name in measured:
            lines += _pair_section(pair_name, pairs.get(pair_name), groups, plot_dir, report)
    # Targets measured by other scripts (fast rollout, tabular), kept by hand with their commands
    other = Path(__file__).parent / "other_targets.md"
    if suite == "full" and other.exists():
        lines += ["", other.read_text()]
    text = "\n".join(lines)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text)
    return text
