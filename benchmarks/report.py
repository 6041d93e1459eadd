"""Turn finished runs into the markdown report (one table per pair) and one learning-curve PNG per pair and env."""

import datetime
import os
import platform
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.runner import load_results, summary
from benchmarks.specs import SUITES


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

    # SB3_NOTES_COMMIT names the commit the runs were made from (when they ran from an exported copy)
    commit = os.environ.get("SB3_NOTES_COMMIT", "")
    if not commit:
        try:
            done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
            commit = done.stdout.strip()
        except OSError:
            pass
    return {
        "date": datetime.date.today().isoformat(),
        "sb3-notes commit": commit or "unknown",
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


def plot_curves(runs: dict[str, list[dict[str, Any]]], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for side, color in (("ours", "tab:blue"), ("peer", "tab:orange")):
        side_runs = [r for r in runs.get(side, []) if r["curve"]]
        if not side_runs:
            continue
        n = min(len(r["curve"]) for r in side_runs)
        steps = np.array([s for s, _ in side_runs[0]["curve"][:n]])
        values = np.array([[v for _, v in r["curve"][:n]] for r in side_runs])
        label = f"{side_runs[0]['algo']} ({side}, {len(side_runs)} seeds)"
        ax.plot(steps, np.median(values, axis=0), color=color, label=label)
        ax.fill_between(steps, np.percentile(values, 25, axis=0), np.percentile(values, 75, axis=0), color=color, alpha=0.2)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("deterministic return")
    ax.set_title(f"{title} — median, 25–75% band")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(s: dict[str, float]) -> str:
    return f"{s['median']:.1f} / {s['iqm']:.1f} [{s['low']:.1f}, {s['high']:.1f}]"


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
        "mean return over the final evaluation episodes; per pair and env: median / IQM [bootstrap 95% interval of the IQM] "
        "over seeds. Throughput is environment steps per second of training (evaluation excluded), as the median over "
        "seeds of ours/peer with both sides run side by side in the same suite run. Memory is the peak resident set of "
        "the run's process.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine_info().items()],
        "",
    ]
    for pair_name in sorted({p for p, _ in groups}):
        pair = pairs.get(pair_name)
        lines += [f"## {pair_name}", ""]
        if pair is not None and pair.notes:
            lines += [pair.notes, ""]
        lines += [
            "| env | budget | seeds | ours | peer | target (ours) | met | throughput ours/peer | peak MB ours / peer |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        ratios = []
        for (p, env_id), runs in sorted(groups.items()):
            if p != pair_name:
                continue
            ours, peer = runs.get("ours", []), runs.get("peer", [])
            if not ours:
                continue
            s_ours = summary([r["final_return"] for r in ours])
            s_peer = summary([r["final_return"] for r in peer]) if peer else None
            case = next((c for c in pair.cases if c.env_id == env_id), None) if pair else None
            target = case.target if case else None
            met = "—" if target is None else ("yes" if target.met(s_ours["median"]) else "**no**")
            ratio = throughput_ratio(ours, peer)
            if ratio is not None:
                ratios.append(ratio)
            mem = f"{np.median([r['peak_rss_mb'] for r in ours]):.0f} / " + (
                f"{np.median([r['peak_rss_mb'] for r in peer]):.0f}" if peer else "—"
            )
            lines.append(
                f"| {env_id} | {ours[0]['budget']:,} | {len(ours)} | {ours[0]['algo']}: {_fmt(s_ours)} | "
                + (f"{peer[0]['algo']}: {_fmt(s_peer)}" if s_peer else "—")
                + f" | {target or '—'} | {met} | {'—' if ratio is None else f'{ratio:.2f}×'} | {mem} |"
            )
            plot = plot_dir / f"{pair_name}_{env_id}.png"
            plot_curves(runs, f"{pair_name} on {env_id}", plot)
        lines.append("")
        if pair is not None and pair.throughput_target is not None and ratios:
            worst = min(ratios)
            verdict = "met" if worst >= pair.throughput_target else "**missed**"
            lines += [
                f"Throughput target ({pair.throughput_source}): ≥ {pair.throughput_target:g}× the peer; "
                f"measured {', '.join(f'{r:.2f}×' for r in ratios)} — {verdict}.",
                "",
            ]
        for (p, env_id), _ in sorted(groups.items()):
            if p == pair_name:
                rel = (plot_dir / f"{pair_name}_{env_id}.png").relative_to(report.parent)
                lines.append(f"![{pair_name} on {env_id}]({rel.as_posix()})")
        lines.append("")
    # Targets measured by other scripts (fast rollout, tabular), kept by hand with their commands
    other = Path(__file__).parent / "other_targets.md"
    if suite == "full" and other.exists():
        lines += ["", other.read_text()]
    text = "\n".join(lines)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text)
    return text
