"""Training-loss curves from MMEngine's ``vis_data/scalars.json``.

Used by ``tools/analysis_tools/plot_losses.py`` (after a run, by hand) and
:class:`~stoavlp.engine.hooks.LossCurvesHook` (at the end of every run).
Matplotlib is used through ``Figure`` objects only, never ``pyplot``, so
importing this module does not change the process's plotting backend.
"""
import glob
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np

# {loss name: (steps (n,), values (n,))}
LossSeries = Dict[str, np.ndarray]


def find_latest_scalars(work_dir: str) -> Optional[str]:
    """The newest ``<work_dir>/<timestamp>/vis_data/scalars.json``, or None
    (timestamps sort by time)."""
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    return found[-1] if found else None


def read_losses(path: str) -> LossSeries:
    """``{loss name: (steps, values)}`` from a scalars.json: every numeric
    ``loss*`` key of the records that carry a ``step``."""
    return read_scalars(path, ('loss', ))


def read_scalars(path: str, prefixes: Tuple[str, ...]) -> LossSeries:
    """``{name: (steps, values)}`` of every numeric key starting with one of
    ``prefixes`` in the records of a scalars.json that carry a ``step``."""
    series = defaultdict(list)
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            if 'step' not in record:
                continue
            for key, value in record.items():
                if key.startswith(prefixes) and isinstance(value,
                                                           (int, float)):
                    series[key].append((record['step'], value))
    return {k: np.array(v).T for k, v in series.items()}


def summarize(losses: LossSeries) -> List[Tuple[str, float, float]]:
    """``(name, first, last)`` means over the first/last 10 % of points."""
    rows = []
    for name, (_, values) in sorted(losses.items()):
        k = max(1, len(values) // 10)
        rows.append((name, float(values[:k].mean()),
                     float(values[-k:].mean())))
    return rows


def summary_lines(losses: LossSeries) -> List[str]:
    """The table ``plot_losses.py`` prints: header, then per loss its first
    and last 10 % means, their ratio and whether it fell."""
    lines = [f'{"loss":<12}{"first 10%":>12}{"last 10%":>12}{"ratio":>8}']
    for name, first, last in summarize(losses):
        trend = 'fell' if last < first else 'DID NOT FALL'
        lines.append(f'{name:<12}{first:>12.4f}{last:>12.4f}'
                     f'{last / first if first else float("nan"):>8.2f}  '
                     f'{trend}')
    return lines


def plot_losses(losses: LossSeries, out: str, smooth: int = 10,
                title: str = '') -> str:
    """One panel per loss (raw, faint, and a ``smooth``-point moving
    average), up to 4 panels a row, saved as a PNG; returns ``out``."""
    from matplotlib.figure import Figure
    if not losses:
        raise ValueError('no losses to plot')
    names = sorted(losses)
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig = Figure(figsize=(4 * cols, 3 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names):
        steps, values = losses[name]
        ax.plot(steps, values, alpha=0.3, color='tab:blue')
        if len(values) >= smooth > 1:
            kernel = np.ones(smooth) / smooth
            ax.plot(steps[smooth - 1:], np.convolve(values, kernel, 'valid'),
                    color='tab:blue')
        ax.set_title(name)
        ax.set_xlabel('iteration')
    for ax in list(axes.flat)[len(names):]:
        ax.axis('off')
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    return out


def plot_metrics(metrics: LossSeries, out: str, title: str = '',
                 xlabel: str = 'epoch') -> str:
    """One panel per metric family (the part before ``/``), each metric a
    line with markers; ``*chance`` metrics are drawn dashed, so every
    accuracy sits beside its chance level; ``num_*`` counts are left out.
    Saved as a PNG; returns ``out``.
    """
    from matplotlib.figure import Figure
    if not metrics:
        raise ValueError('no metrics to plot')
    families = defaultdict(list)
    for name in sorted(metrics):
        if name.split('/')[-1].startswith('num_'):
            continue  # counts, not rates
        families[name.split('/')[0]].append(name)
    cols = min(3, len(families))
    rows = (len(families) + cols - 1) // cols
    fig = Figure(figsize=(5 * cols, 3.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (family, names) in zip(axes.flat, sorted(families.items())):
        for name in names:
            steps, values = metrics[name]
            label = name.split('/', 1)[-1]
            if 'chance' in label:
                ax.plot(steps, values, '--', color='gray', label=label)
            else:
                ax.plot(steps, values, 'o-', label=label)
        ax.set_title(family)
        ax.set_xlabel(xlabel)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(families):]:
        ax.axis('off')
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    return out
