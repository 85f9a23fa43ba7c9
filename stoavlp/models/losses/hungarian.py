"""Optimal bipartite matching (Hungarian algorithm, scipy)."""
from typing import Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def hungarian_match(score: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the assignment maximising the total ``score``.

    Args:
        score (torch.Tensor): ``(n, m)``; ``min(n, m)`` pairs are matched.

    Returns:
        tuple[np.ndarray, np.ndarray]: matched row and column indices.
    """
    rows, cols = linear_sum_assignment(
        score.detach().float().cpu().numpy(), maximize=True)
    return rows, cols
