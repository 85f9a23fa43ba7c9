"""Plot the training losses of a run and say whether each one fell.

    python tools/analysis_tools/plot_losses.py WORK_DIR [--out losses.png]

Reads MMEngine's ``<WORK_DIR>/<timestamp>/vis_data/scalars.json`` (the
latest run, or ``--scalars FILE``), draws one panel per ``loss*`` key (raw
and smoothed) and prints the mean of the first and last 10 % of iterations
for each loss. The plotting lives in ``stoavlp.visualization.curves`` (the
``LossCurvesHook`` draws the same picture at the end of every run).
"""
import argparse
import os.path as osp

from stoavlp.visualization.curves import (find_latest_scalars, plot_losses,
                                          read_losses, summary_lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='the run\'s work directory')
    parser.add_argument('--scalars', help='a scalars.json (default: latest)')
    parser.add_argument('--out', help='PNG (default WORK_DIR/losses.png)')
    parser.add_argument('--smooth', type=int, default=10,
                        help='moving-average window in logged points')
    return parser.parse_args(argv)


def latest_scalars(work_dir: str) -> str:
    found = find_latest_scalars(work_dir)
    if found is None:
        raise SystemExit(f'no */vis_data/scalars.json under {work_dir}')
    return found


def main(argv=None):
    args = parse_args(argv)
    path = args.scalars or latest_scalars(args.work_dir)
    losses = read_losses(path)
    if not losses:
        raise SystemExit(f'{path} holds no loss values')
    out = args.out or osp.join(args.work_dir, 'losses.png')
    plot_losses(losses, out, args.smooth,
                osp.basename(osp.normpath(args.work_dir)))
    for line in summary_lines(losses):
        print(line)
    print(f'picture: {out}')


if __name__ == '__main__':
    main()
