"""A grid world's greedy policy as arrows over a heatmap of max_a Q(s, a) (matplotlib, an optional dependency)."""

from typing import Any

import numpy as np

# (dx, dy) of each action, x to the right and y downwards (row index), for the toy-text grid worlds
FROZEN_LAKE_ARROWS: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))  # LEFT, DOWN, RIGHT, UP
CLIFF_WALKING_ARROWS: tuple[tuple[int, int], ...] = ((0, -1), (1, 0), (0, 1), (-1, 0))  # UP, RIGHT, DOWN, LEFT


def plot_grid_policy(
    q_values: Any,
    shape: tuple[int, int],
    action_arrows: tuple[tuple[int, int], ...] = FROZEN_LAKE_ARROWS,
    labels: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """
    Draw the greedy action argmax_a Q(s, a) of every cell as an arrow over a heatmap of max_a Q(s, a).

    :param q_values: Q(s, ·) as an array (n_states, n_actions), or a tabular model (its policy's table is used)
    :param shape: (rows, cols) of the grid; state s is cell (s // cols, s % cols)
    :param action_arrows: (dx, dy) per action, e.g. :data:`FROZEN_LAKE_ARROWS` or :data:`CLIFF_WALKING_ARROWS`
    :param labels: Optional (rows, cols) array of cell letters drawn in the corner (e.g. FrozenLake's ``desc``)
    :param ax: Matplotlib axes to draw on (a new figure if ``None``)
    :param title: Axes title
    :return: The axes
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError("plot_grid_policy needs matplotlib: pip install 'sb3-notes[extra]'") from err
    if hasattr(q_values, "policy") and hasattr(q_values.policy, "q_values"):
        policy = q_values.policy
        q_values = policy.q_values(np.arange(policy.n_states))
    q = np.asarray(q_values, dtype=np.float64)
    rows, cols = shape
    if q.ndim != 2 or q.shape[0] != rows * cols:
        raise ValueError(f"`q_values` of shape {q.shape} does not fit a {rows}x{cols} grid (need ({rows * cols}, n_actions))")
    if len(action_arrows) != q.shape[1]:
        raise ValueError(f"`action_arrows` has {len(action_arrows)} entries for {q.shape[1]} actions")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * cols + 1.5, 0.6 * rows + 0.5))
    image = ax.imshow(q.max(axis=1).reshape(rows, cols), cmap="viridis")
    ax.figure.colorbar(image, ax=ax, label="max_a Q(s, a)")
    greedy = q.argmax(axis=1)
    arrows = np.asarray(action_arrows, dtype=np.float64)[greedy]
    y, x = np.divmod(np.arange(rows * cols), cols)
    # flat cells (all actions equal, e.g. never visited or terminal) get no arrow
    decided = q.max(axis=1) > q.min(axis=1)
    ax.quiver(
        x[decided],
        y[decided],
        arrows[decided, 0],
        -arrows[decided, 1],
        color="white",
        pivot="middle",
        scale=1.6,
        scale_units="xy",
    )
    if labels is not None:
        labels = np.asarray(labels)
        for r in range(rows):
            for c in range(cols):
                text = labels[r, c].decode() if isinstance(labels[r, c], bytes) else str(labels[r, c])
                ax.text(c - 0.4, r - 0.25, text, color="white", fontsize=8)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    if title:
        ax.set_title(title)
    return ax


__all__ = ["CLIFF_WALKING_ARROWS", "FROZEN_LAKE_ARROWS", "plot_grid_policy"]
