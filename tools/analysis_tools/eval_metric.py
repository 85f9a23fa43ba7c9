"""Re-score the predictions ``tools/test.py --dump`` wrote, without the
model (mmaction2's tool).

    python tools/analysis_tools/eval_metric.py CONFIG PREDS.pkl
        [--cfg-options test_evaluator.topk=[1,5,10,50]]

The config's ``test_evaluator`` (a metric changed with ``--cfg-options``,
or another config's) scores the dumped items: retrieval queries (their
ground-truth ranks), captions, QA answers, multiple choice. Prints the table
``tools/test.py`` prints.
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Evaluate dumped predictions offline')
    parser.add_argument('config', help='config whose test_evaluator scores')
    parser.add_argument('pkl_results', help='tools/test.py --dump output')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.evaluator import Evaluator
    from mmengine.fileio import load

    from stoavlp.evaluation.report import format_results
    from stoavlp.utils import register_all_modules
    register_all_modules()
    if not osp.isfile(args.pkl_results):
        raise FileNotFoundError(f'predictions not found: {args.pkl_results}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    metrics = cfg.test_evaluator
    metrics = [m for m in (metrics if isinstance(metrics, (list, tuple))
                           else [metrics]) if m['type'] != 'DumpResults']
    predictions = load(args.pkl_results)
    if not predictions:
        raise ValueError(f'{args.pkl_results} holds no predictions')
    results = Evaluator(metrics).offline_evaluate(predictions,
                                                  chunk_size=1024)
    print(format_results(results,
                         osp.splitext(osp.basename(args.config))[0]))
    return results


if __name__ == '__main__':
    main()
