"""A suite's report from the runs on disk: markdown tables, learning curves, aggregate and ablation figures (PNG).

Pair suites: a table per pair (median, IQM [95% CI], P(ours > peer), published rows, target, throughput ratio beside
the env's own step cost, peak memory) and a curve PNG per pair and env; the `deep` suite adds one aggregate PNG per
pair. Ablation suites: the PPO paper's Table 1 layout, a curve PNG per task and β's trace PNG. Missing runs are
left out and counted, never filled in.
"""

import datetime
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import stats
from benchmarks.harness import load_runs
from benchmarks.spec import Ablation, Comparison, RunConfig, Suite

COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def machine_info() -> dict[str, str]:
    """Date, package versions and the CPU: what a reader needs to compare figures with their own."""
    import gymnasium
    import stable_baselines3
    import torch

    from benchmarks.harness import cpu_name
    from sb3_notes.version import __version__

    # The package's version, which a reader can install; a commit hash names nothing outside this repository
    return {
        "date": datetime.date.today().isoformat(),
        "sb3-notes": __version__,
        "cpu": cpu_name(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "stable-baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "torch threads per run": "1 (torch.set_num_threads(1))",
    }


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(
    series: dict[str, list[dict[str, Any]]],
    title: str,
    path: Path,
    references: dict[str, float] | None = None,
    ylabel: str = "deterministic return",
) -> None:
    """Median and 25-75% band over seeds of each labelled set of runs, and horizontal reference lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for (label, runs), color in zip(series.items(), COLORS, strict=False):
        runs = [r for r in runs if r["curve"]]
        if not runs:
            continue
        n = min(len(r["curve"]) for r in runs)
        steps = np.array([s for s, _ in runs[0]["curve"][:n]])
        values = np.array([[v for _, v in r["curve"][:n]] for r in runs])
        ax.plot(steps, np.median(values, axis=0), color=color, label=f"{label} ({len(runs)} seeds)")
        ax.fill_between(steps, np.percentile(values, 25, axis=0), np.percentile(values, 75, axis=0), color=color, alpha=0.2)
    for (name, value), style in zip((references or {}).items(), ("--", ":", "-."), strict=False):
        ax.axhline(value, color="black", linestyle=style, linewidth=1, label=f"{name}: {value:.4g}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} — median, 25–75% band", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(s: stats.Summary, digits: int) -> str:
    return f"{s.median:.{digits}f} / {s.iqm:.{digits}f} [{s.low:.{digits}f}, {s.high:.{digits}f}]"


def _tabular_references(config: RunConfig) -> dict[str, float]:
    """A tabular case's DP optimum and the score of π* (the optimal stationary policy) within the time limit."""
    from benchmarks.tabular import exact_score

    scorer = exact_score(config.env_id, config.eval_horizon)
    return {"DP optimum": scorer.optimum(), "π* (stationary)": scorer.stationary_optimum()}


def _throughput(ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> float | None:
    """Median over seeds of ours/peer steps per second, pairing the runs with the same seed (made side by side)."""
    by_seed = {r["seed"]: r for r in peer}
    ratios = [r["steps_per_second"] / by_seed[r["seed"]]["steps_per_second"] for r in ours if r["seed"] in by_seed]
    return float(np.median(ratios)) if ratios else None


def _us_per_step(runs: list[dict[str, Any]], key: str = "steps_per_second") -> str:
    values = [r[key] for r in runs if r.get(key)]
    if not values:
        return "—"
    median = float(np.median(values))
    return f"{(median if key == 'env_step_seconds' else 1 / median) * 1e6:.0f}"


def _verdict(ours: stats.Summary, peer: stats.Summary) -> str:
    """The issue's reading of "within noise": IQM intervals overlap; otherwise higher or lower."""
    if ours.overlaps(peer):
        return "within noise"
    return "higher" if ours.iqm > peer.iqm else "**lower**"


def _pair_section(
    name: str, notes: Any, rows: list[Comparison], results: Path, plot_dir: Path, report: Path, seeds: int
) -> tuple[list[str], dict[str, Any]]:
    """The markdown of one pair and the (ours, peer) final returns per env, for the aggregate (``seeds``: the
    suite's, for rows that do not set their own)."""
    tabular = rows[0].ours[0].tabular
    digits = 3 if tabular else 1
    lines = [f"## {name}", ""] + ([notes.notes, ""] if notes and notes.notes else [])
    header = ["env", "budget", "seeds", "ours", "peer", "P(ours > peer) [95% CI]", "vs peer"]
    header += ["DP optimum", "π*"] if tabular else ["published (not ours)"]
    header += ["target (ours)", "met", "throughput ours/peer"]
    header += [] if tabular else ["µs/step: env alone / ours / peer"]
    header += ["peak MB ours / peer"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    ratios: dict[tuple[str, str], float] = {}
    plots, finals, missing = [], {}, 0
    series_by_env: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        peer_runs = load_runs(row.peer, results) if row.peer else []
        series = series_by_env.setdefault(row.env_id, {})
        for config in row.ours:
            runs = load_runs(config, results)
            planned = row.seeds or seeds
            missing += max(planned - len(runs), 0)
            if not runs:
                continue
            s_ours = stats.summary([r["final_return"] for r in runs])
            label = runs[0]["algo"] if row.peer else config.name  # rows without a peer are variants: name them
            if f"{label} (ours)" in series:  # one learner twice (paper settings, then the tuned shipped entry)
                label = f"{label} {config.name}"
            series[f"{label} (ours)"] = runs
            cells = [row.env_id, f"{config.budget:,}", str(len(runs)), f"{label}: {_fmt(s_ours, digits)}"]
            if peer_runs:
                s_peer = stats.summary([r["final_return"] for r in peer_runs])
                n = min(len(runs), len(peer_runs))
                p = stats.probability_of_improvement(
                    np.array([r["final_return"] for r in runs[:n]]), np.array([r["final_return"] for r in peer_runs[:n]])
                )
                cells += [f"{peer_runs[0]['algo']}: {_fmt(s_peer, digits)}", f"{p.value:.2f} [{p.low:.2f}, {p.high:.2f}]"]
                cells += [_verdict(s_ours, s_peer)]
                finals[row.env_id] = (runs, peer_runs)  # the row's last "ours" (the shipped entry) in the aggregate
            else:
                cells += ["—", "—", "—"]
            if tabular:
                cells += [f"{v:.3f}" for v in _tabular_references(config).values()]
            else:
                cells += ["; ".join(f"{p.label}: {p.value:g}" for p in row.published) or "—"]
            met = "—" if row.target is None else row.target.verdict([r["final_return"] for r in runs], planned)
            met = f"**{met}**" if met.startswith("no") else met
            ratio = _throughput(runs, peer_runs)
            if ratio is not None:
                ratios[(config.algo, row.env_id)] = ratio
            cells += [str(row.target or "—"), met, "—" if ratio is None else f"{ratio:.2f}×"]
            if not tabular:
                cells += [f"{_us_per_step(runs, 'env_step_seconds')} / {_us_per_step(runs)} / {_us_per_step(peer_runs)}"]
            mem = f"{np.median([r['peak_rss_mb'] for r in runs]):.0f} / " + (
                f"{np.median([r['peak_rss_mb'] for r in peer_runs]):.0f}" if peer_runs else "—"
            )
            lines.append("| " + " | ".join([*cells, mem]) + " |")
        if peer_runs:
            series[f"{peer_runs[0]['algo']} (peer)"] = peer_runs
    for row in {r.env_id: r for r in rows}.values():  # one plot per env, every row of that env in it
        if series_by_env[row.env_id]:
            plot = plot_dir / f"{name}_{row.env_id}.png"
            refs = _tabular_references(row.ours[0]) if tabular else {p.label: p.value for p in row.published}
            ylabel = "return of the greedy policy (exact)" if tabular else "deterministic return"
            plot_curves(series_by_env[row.env_id], f"{name} on {row.env_id}", plot, refs, ylabel)
            plots.append(f"![{name} on {row.env_id}]({os.path.relpath(plot, report.parent)})")
    lines.append("")
    if missing:
        lines += [f"{missing} planned runs of this pair are not on disk yet and are left out.", ""]
    if notes and notes.throughput_target is not None and ratios:
        scope = {k: v for k, v in ratios.items() if notes.throughput_scope is None or k == notes.throughput_scope}
        if scope:
            verdict = "met" if min(scope.values()) >= notes.throughput_target else "**missed**"
            where = "" if notes.throughput_scope is None else f" ({notes.throughput_scope[0]} on {notes.throughput_scope[1]})"
            lines += [
                f"Throughput target ({notes.throughput_source}): ≥ {notes.throughput_target:g}× the peer{where}; "
                f"measured {', '.join(f'{r:.2f}×' for r in scope.values())} — {verdict}.",
                "",
            ]
    return [*lines, *plots, ""], finals


def _aggregate_figure(name: str, finals: dict[str, Any], zero: dict[str, float], one: dict[str, float], path: Path) -> str:
    """One PNG per pair: IQM of normalised scores across envs with 95% CIs, the performance profile, P(ours > peer)."""
    envs = [e for e in finals if e in zero and e in one]
    if not envs:
        return f"Aggregate of {name}: no env has both sides and a random-policy run on disk yet."
    n = min(min(len(o), len(p)) for o, p in (finals[e] for e in envs))  # rliable takes a (runs × envs) matrix
    ours = np.array([[stats.normalise(finals[e][0][i]["final_return"], zero[e], one[e]) for e in envs] for i in range(n)])
    peer = np.array([[stats.normalise(finals[e][1][i]["final_return"], zero[e], one[e]) for e in envs] for i in range(n)])
    scores = {"ours": ours, "peer": peer}
    iqm = stats.aggregate_iqm(scores)
    p = stats.probability_of_improvement(ours, peer)
    taus = np.linspace(min(0.0, ours.min(), peer.min()), max(1.2, ours.max(), peer.max()), 41)
    profile, bands = stats.performance_profile(scores, taus)
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    for i, (side, color) in enumerate((("ours", "tab:blue"), ("peer", "tab:orange"))):
        e = iqm[side]
        left.errorbar([e.value], [i], xerr=[[e.value - e.low], [e.high - e.value]], fmt="o", color=color, capsize=4)
        right.plot(taus, profile[side], color=color, label=side)
        right.fill_between(taus, bands[side][0], bands[side][1], color=color, alpha=0.2)
    left.set_yticks([0, 1], ["ours", "peer"])
    left.set_ylim(-0.6, 1.6)
    left.set_xlabel("IQM of normalised score (random 0, RL Zoo row 1)")
    left.set_title(f"P(ours > peer) = {p.value:.2f} [{p.low:.2f}, {p.high:.2f}]", fontsize=9)
    right.set_xlabel("normalised score τ")
    right.set_ylabel("fraction of runs > τ")
    right.legend(fontsize=7)
    fig.suptitle(f"{name}: {len(envs)} envs × {n} seeds ({', '.join(envs)})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return (
        f"Aggregate over {', '.join(envs)} ({n} seeds each, scores normalised so the uniform-random policy is 0 and the "
        f"RL Zoo's published row is 1): IQM ours {iqm['ours'].value:.2f} [{iqm['ours'].low:.2f}, {iqm['ours'].high:.2f}], "
        f"peer {iqm['peer'].value:.2f} [{iqm['peer'].low:.2f}, {iqm['peer'].high:.2f}]; P(ours > peer) = {p.value:.2f} "
        f"[{p.low:.2f}, {p.high:.2f}] (rliable, stratified bootstrap)."
    )


def _random_returns(configs: list[RunConfig], results: Path) -> dict[str, float]:
    return {c.env_id: runs[0]["final_return"] for c in configs if (runs := load_runs(c, results))}


def _ablation_section(suite: Suite, ablation: Ablation, results: Path, plot_dir: Path, report: Path) -> list[str]:
    """The PPO paper's Table 1 layout (setting → normalised score per task and averaged), curves and β's trace."""
    zero = _random_returns([ablation.random(t) for t in ablation.tasks], results)
    runs = {(s, t): load_runs(make(t), results) for s, (_, _, make) in ablation.settings.items() for t in ablation.tasks}
    # the paper's score: mean over seeds of the mean return of the last 100 training episodes
    raw = {k: float(np.mean([r["train_return_last100"] for r in v])) for k, v in runs.items() if v}
    # a task is normalised once every setting has run on it: "best" is then the best of all of them, as in the paper
    complete = [t for t in ablation.tasks if t in zero and all((s, t) in raw for s in ablation.settings)]
    best = {t: max(v for (_, task), v in raw.items() if task == t) for t in complete}
    norm = {(s, t): stats.normalise(v, zero[t], best[t]) for (s, t), v in raw.items() if t in best}
    lines = [
        "| setting | paper (avg of 7 tasks) | ours (avg of the tasks run) | " + " | ".join(ablation.tasks) + " |",
        "|---|---|---|" + "---|" * len(ablation.tasks),
    ]
    averages = {}
    for s, (label, paper, _) in ablation.settings.items():
        cells = [
            f"{norm[(s, t)]:.2f} ({len(runs[(s, t)])})"
            if (s, t) in norm
            else f"return {raw[(s, t)]:.0f} ({len(runs[(s, t)])})"
            if (s, t) in raw
            else "—"
            for t in ablation.tasks
        ]
        done = [norm[(s, t)] for t in ablation.tasks if (s, t) in norm]
        averages[s] = float(np.mean(done)) if done else None
        ours = "—" if not done else f"{averages[s]:.2f} over {len(done)}"
        lines.append(f"| {label} | {'—' if paper is None else f'{paper:.2f}'} | {ours} | " + " | ".join(cells) + " |")
    n_runs = sum(len(v) for v in runs.values())
    lines += [
        "",
        f"Cells: normalised score (seeds run). {n_runs} of {len(runs) * suite.seeds} runs on disk; random-policy "
        f"returns (100 episodes): {', '.join(f'{t} {v:.1f}' for t, v in zero.items()) or 'none yet'}. A task is "
        "normalised once every setting has run on it ('best' is then the best setting's mean over seeds); until then "
        "its cells give the raw mean return of the last 100 training episodes. Seeds still to run can move the scores.",
        "",
    ]
    partial = [t for t in ablation.tasks if t not in best and any(task == t for _, task in raw)]
    lines += _ablation_order(ablation, norm, partial)
    lines += [READING[0], READING[1], ""]  # the hand-written reading goes here (see write_into)
    for t in ablation.tasks:
        series = {ablation.settings[s][0]: runs[(s, t)] for s in ablation.settings if runs[(s, t)]}
        if series:
            plot = plot_dir / f"{suite.name}_{t}.png"
            plot_curves(series, f"{suite.name} on {t}", plot, {"random policy": zero[t]} if t in zero else None)
            lines.append(f"![{suite.name} on {t}]({os.path.relpath(plot, report.parent)})")
    traces = {(s, t): v for (s, t), v in runs.items() if v and any(r.get("traces", {}).get("train/kl_coef") for r in v)}
    if traces:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for ((s, t), v), color in zip(traces.items(), COLORS, strict=False):
            for i, r in enumerate(v):
                steps, betas = zip(*r["traces"]["train/kl_coef"], strict=True)
                ax.plot(steps, betas, color=color, alpha=0.7, label=f"{ablation.settings[s][0]}, {t}" if i == 0 else None)
        ax.set_yscale("log")
        ax.set_xlabel("environment steps")
        ax.set_ylabel("β (train/kl_coef)")
        ax.set_title("β of the adaptive-KL rows, one line per seed", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        plot = plot_dir / f"{suite.name}_beta.png"
        fig.savefig(plot, dpi=90)
        plt.close(fig)
        lines.append(f"![β of the adaptive rows]({os.path.relpath(plot, report.parent)})")
    return [*lines, ""]


def _ablation_order(ablation: Ablation, norm: dict[tuple[str, str], float], partial: list[str]) -> list[str]:
    """
    Our order of the settings against the paper's (its 7-task averages), on each task of ``norm`` (the tasks where
    every setting ran) and on their average; ``partial``: the tasks some settings have run on, named as left out.
    Averages over different task sets would not compare.
    """
    complete = [t for t in ablation.tasks if any(task == t for _, task in norm)]
    if not complete and not partial:
        return []
    settings = list(ablation.settings)
    label = {s: ablation.settings[s][0] for s in settings}
    paper = sorted(settings, key=lambda s: -(ablation.settings[s][1] or -np.inf))

    def verdict(ranked: list[str]) -> str:
        return " > ".join(label[s] for s in ranked) + (" (the paper's order)" if ranked == paper else "")

    lines = [f"Order of the settings, the paper's (7-task averages): {' > '.join(label[s] for s in paper)}.", ""]
    for t in complete:
        lines.append(f"- {t}: {verdict(sorted(settings, key=lambda s: -norm[(s, t)]))}")
    if len(complete) > 1:
        mean = {s: float(np.mean([norm[(s, t)] for t in complete])) for s in settings}
        lines.append(f"- average over these {len(complete)} tasks: {verdict(sorted(settings, key=lambda s: -mean[s]))}")
    if partial:
        lines.append(f"- not every setting has run on {', '.join(partial)}: left out of the order")
    return [*lines, ""]


READING = ("<!-- reading: hand-written, kept when the report is regenerated -->", "<!-- end of reading -->")


def write_into(page: Path, suite_name: str, text: str) -> None:
    """
    Put ``text`` (one heading level down) between ``page``'s markers of the suite, or append it with them. A
    hand-written reading between the :data:`READING` markers of the old section is carried into the new one (after
    the figures' table: at the new text's own markers if it has them, else at the end).
    """
    begin, end = f"<!-- suite {suite_name}: python -m benchmarks report -->", f"<!-- end of suite {suite_name} -->"
    demoted = "\n".join(f"#{line}" if line.startswith("#") else line for line in text.splitlines())
    current = page.read_text() if page.exists() else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        old, tail = rest.split(end, 1)
        if READING[0] in old and READING[1] in old:
            reading = READING[0] + old.split(READING[0], 1)[1].split(READING[1], 1)[0] + READING[1]
            if READING[0] in demoted:
                before, after = demoted.split(READING[0], 1)
                demoted = before + reading + after.split(READING[1], 1)[1]
            else:
                demoted = f"{demoted.rstrip()}\n\n{reading}\n"
        current = f"{head}{begin}\n{demoted}\n{end}{tail}"
    else:
        current = f"{current.rstrip()}\n\n{begin}\n{demoted}\n{end}\n"
    page.write_text(current)


def write_report(suite: Suite, results: Path, out: Path, plot_dir: Path | None = None, into: Path | None = None) -> str:
    """
    Write the markdown report of ``suite`` from the runs under ``results``; return the markdown.

    :param suite: The suite
    :param results: The results folder
    :param out: The markdown file (its folder anchors the PNGs' links)
    :param plot_dir: Where the PNGs go (default: ``<out's folder>/<out's stem>/``)
    :param into: Instead of writing ``out``, replace this suite's section of that page (``out`` must be in its folder)
    """
    plot_dir = plot_dir or out.parent / out.stem
    lines = [
        f"# Benchmarks: suite `{suite.name}`",
        "",
        f"{suite.doc} Produced by `python -m benchmarks run --suite {suite.name}` and `python -m benchmarks report "
        f"--suite {suite.name}`. Returns are the deterministic policy's mean return over the final evaluation episodes "
        "(tabular: the greedy policy's exact expected return); per row: median / IQM [95% interval] over seeds, with "
        "rliable's IQM (the mean of the middle 50%, ⌊n/4⌋ seeds cut at each end) and stratified bootstrap. P(ours > peer) "
        "is rliable's probability of improvement. Throughput is environment steps per second of training (evaluation "
        "excluded), the median over seeds of ours/peer for runs made side by side; beside it, the env's own cost per "
        "step (`gym.make`, random actions) and each learner's whole cost per step. Memory is the peak resident set of "
        "the run's process.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine_info().items()],
        "",
    ]
    by_pair: dict[str, list[Comparison]] = {}
    for c in suite.comparisons:
        by_pair.setdefault(c.pair, []).append(c)
    zero = _random_returns(list(suite.extra), results)
    for name, rows in by_pair.items():
        section, finals = _pair_section(name, suite.pairs.get(name), rows, results, plot_dir, out, suite.seeds)
        lines += section
        published = {c.env_id: c.published[0].value for c in rows if c.published}
        if suite.extra and published:
            plot = plot_dir / f"{suite.name}_{name}_aggregate.png"
            lines += [_aggregate_figure(name, finals, zero, published, plot), ""]
            if plot.exists():
                lines += [f"![{name}, aggregate]({os.path.relpath(plot, out.parent)})", ""]
    if suite.ablation is not None:
        lines += _ablation_section(suite, suite.ablation, results, plot_dir, out)
    other = Path(__file__).parent / "other_targets.md"  # measured by `speed`, kept with the commands that made them
    if suite.name == "full" and other.exists():
        lines += ["", other.read_text()]
    text = "\n".join(lines)
    if into is not None:
        write_into(into, suite.name, text)
        return text
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text
