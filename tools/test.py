"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Same arguments as mmaction2's ``tools/test.py``; ``--dump`` writes the
predictions (pickle) for offline analysis. Prints the results as a table in
the layout of the paper's tables and writes them to
``<work_dir>/test_metrics.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

# the repository root, so that configs can `custom_imports` code under
# projects/ (Python puts tools/ first on the path)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a stoavlp model.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where evaluation logs go')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump predictions to this pickle file (.pkl)')
    parser.add_argument(
        '--show-dir',
        help='draw every test sample with its prediction (frames, boxes, '
        'caption / answer / chosen option) into this folder (relative: '
        'under the work dir)')
    parser.add_argument('--show-interval', type=int, default=1,
                        help='with --show-dir, draw every N-th sample')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Apply command-line arguments to ``cfg``."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint

    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError('--dump must end with .pkl or .pickle')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = [*cfg.test_evaluator, dump_metric]
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]

    if args.show_dir is not None:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [dict(
            type='VideoTextVisualizationHook', out_dir=args.show_dir,
            interval=args.show_interval)]

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from mmengine.dist import is_main_process

    from stoavlp.compat import trusted_checkpoints
    from stoavlp.evaluation.report import format_results
    from stoavlp.registry import RUNNERS
    from stoavlp.utils import register_all_modules
    from stoavlp.utils.preflight import preflight
    register_all_modules(init_default_scope=False)

    cfg = merge_args(Config.fromfile(args.config), args)
    preflight(cfg, checkpoint=args.checkpoint)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    with trusted_checkpoints():  # checkpoints of the project's own runs
        metrics = runner.test()
    if is_main_process() and metrics:
        name = osp.splitext(osp.basename(args.config))[0]
        print(format_results(metrics, name))
        out = osp.join(cfg.work_dir, 'test_metrics.json')
        with open(out, 'w', encoding='utf-8') as f:
            json.dump(metrics, f, indent=1)
        print(f'metrics: {out}')


if __name__ == '__main__':
    main()
