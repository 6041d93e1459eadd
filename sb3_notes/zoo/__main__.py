"""
``python -m sb3_notes.zoo <script> [rl_zoo3 arguments]`` (console script ``sb3-notes-zoo``).

Registers the sb3-notes algorithms with the RL Zoo, then runs the zoo's own script with the remaining arguments,
exactly as ``python -m rl_zoo3.cli <script> ...`` would. Scripts: train, enjoy, plot_train, plot_from_file,
all_plots; and ours: tune (N local workers on one study, see ``sb3-notes-zoo tune --help``).

``train`` takes these options besides the zoo's (see :mod:`sb3_notes.zoo.tuning`): ``--trial-seeds N``,
``--trial-aggregate median|mean|iqm``, ``--heartbeat-interval S``, ``--heartbeat-grace S``, ``--trial-retries K``,
``--sampler-seed S``, ``--search-params NAME ...``.
"""

import importlib
import sys
from collections.abc import Sequence

from sb3_notes.zoo import ZooBridgeError, register
from sb3_notes.zoo.tuning import parse_tuning_args, tuning_parser

# Imported on use: the plots need the zoo's `plots` extra (seaborn, scipy, rliable), train and enjoy do not.
SCRIPTS: dict[str, str] = {
    "train": "rl_zoo3.train:train",
    "enjoy": "rl_zoo3.enjoy:enjoy",
    "plot_train": "rl_zoo3.plots.plot_train:plot_train",
    "plot_from_file": "rl_zoo3.plots.plot_from_file:plot_from_file",
    "all_plots": "rl_zoo3.plots.all_plots:all_plots",
    "tune": "sb3_notes.zoo.cluster:tune",
}
PROG = "sb3-notes-zoo"


def main(argv: Sequence[str] | None = None) -> None:
    """
    Run one of the zoo's scripts with the sb3-notes algorithms registered.

    :param argv: ``[script, *zoo_arguments]``; ``sys.argv[1:]`` by default
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: {PROG} {{{','.join(SCRIPTS)}}} [rl_zoo3 arguments]\n\n{__doc__}")
        return
    script = args[0]
    if script not in SCRIPTS:
        sys.exit(f"{PROG}: error: unknown script {script!r}; choose from {', '.join(SCRIPTS)}")
    rest = args[1:]
    tuning = None
    if script == "train":
        if "-h" in rest or "--help" in rest:
            tuning_parser(f"{PROG} train").print_help()
            print()
        # Ours are taken out first (bad values exit here, before any study exists); the zoo parses the rest.
        tuning, rest = parse_tuning_args(rest, prog=f"{PROG} train")
    register(tuning)
    # The zoo's scripts parse sys.argv themselves; prog name shows in their usage and error lines.
    sys.argv = [f"{PROG} {script}", *rest]
    module_name, function_name = SCRIPTS[script].split(":")
    run_script = getattr(importlib.import_module(module_name), function_name)
    try:
        run_script()
    except ZooBridgeError as e:
        sys.exit(f"{PROG} {script}: error: {e}")


if __name__ == "__main__":
    main()
