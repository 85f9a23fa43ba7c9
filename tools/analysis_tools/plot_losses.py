"""Plot the training losses of a run and say whether each one fell.

    python tools/analysis_tools/plot_losses.py WORK_DIR [--out losses.png]

Reads MMEngine's ``<WORK_DIR>/<timestamp>/vis_data/scalars.json`` (the
latest run, or ``--scalars FILE``), draws one panel per ``loss*`` key (raw
and smoothed) and prints the mean of the first and last 10 % of iterations
for each loss.
"""
import argparse
import glob
import json
import os
import os.path as osp
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='the run\'s work directory')
    parser.add_argument('--scalars', help='a scalars.json (default: latest)')
    parser.add_argument('--out', help='PNG (default WORK_DIR/losses.png)')
    parser.add_argument('--smooth', type=int, default=10,
                        help='moving-average window in logged points')
    return parser.parse_args(argv)


def latest_scalars(work_dir: str) -> str:
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not found:
        raise SystemExit(f'no */vis_data/scalars.json under {work_dir}')
    return found[-1]


def read_losses(path: str) -> dict:
    """``{loss name: (steps, values)}`` from a scalars.json."""
    series = defaultdict(list)
    with open(path, encoding='utf-8') as f:
        for line in f:
            record = json.loads(line)
            if 'step' not in record:
                continue
            for key, value in record.items():
                if key.startswith('loss') and isinstance(value, (int, float)):
                    series[key].append((record['step'], value))
    return {k: np.array(v).T for k, v in series.items()}


def summarize(losses: dict) -> list:
    """``(name, first, last)`` means over the first/last 10 % of points."""
    rows = []
    for name, (_, values) in sorted(losses.items()):
        k = max(1, len(values) // 10)
        rows.append((name, float(values[:k].mean()),
                     float(values[-k:].mean())))
    return rows


def plot(losses: dict, out: str, smooth: int, title: str) -> None:
    names = sorted(losses)
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows),
                             squeeze=False)
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
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    path = args.scalars or latest_scalars(args.work_dir)
    losses = read_losses(path)
    if not losses:
        raise SystemExit(f'{path} holds no loss values')
    out = args.out or osp.join(args.work_dir, 'losses.png')
    plot(losses, out, args.smooth, osp.basename(osp.normpath(args.work_dir)))
    print(f'{"loss":<12}{"first 10%":>12}{"last 10%":>12}{"ratio":>8}')
    for name, first, last in summarize(losses):
        trend = 'fell' if last < first else 'DID NOT FALL'
        print(f'{name:<12}{first:>12.4f}{last:>12.4f}'
              f'{last / first if first else float("nan"):>8.2f}  {trend}')
    print(f'picture: {out}')


if __name__ == '__main__':
    main()
