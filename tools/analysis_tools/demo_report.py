"""The demo's downstream results beside chance level, as one table.

    python tools/analysis_tools/demo_report.py [--work-dir work_dirs/demo]
        [--data data/demo] [--out work_dirs/demo/results.md]

Reads the ``test_metrics.json`` that ``tools/test.py`` wrote for the demo's
captioning, retrieval, multiple-choice and QA runs and puts each number
beside its chance level on the same test set:

- retrieval: a random ranking (R@K = K/N, median and mean rank (N+1)/2);
- multiple choice: 1 in 5;
- QA: always answering the most frequent training answer;
- captioning: the reference captions of a *different*, randomly drawn test
  clip scored as predictions (what fluent but unrelated text gets).

Then the mechanism of the pre-trained model (``mechanism/test_metrics.json``
of ``..._demo-mechanism.py``, each metric with the chance level the metric
computes) and the pre-training VTM loss over its last 10 % of iterations
against the class prior of one positive to two negatives.
"""
import argparse
import json
import os
import os.path as osp
from collections import Counter

import numpy as np

TASKS = {
    'caption': ('Captioning', ['CIDEr', 'METEOR', 'ROUGE-L', 'BLEU-4']),
    'retrieval': ('Retrieval (text-to-video)',
                  ['t2v/R1', 't2v/R5', 't2v/R10', 't2v/MdR']),
    'mc': ('Multiple choice', ['acc']),
    'qa': ('Open-ended QA', ['acc']),
}
# (key, row label, chance key or a number) of mechanism/test_metrics.json
MECHANISM = [
    ('ota/acc', 'OTA: trajectories matched to their noun', 'ota/chance'),
    ('vtm/acc_random', 'VTM: true caption over a random one', 50.0),
    ('vtm/acc_edit', 'VTM: true caption over a one-attribute edit', 50.0),
    ('vtm/acc_edit_color', '... over a colour edit', 50.0),
    ('vtm/acc_edit_shape', '... over a shape edit', 50.0),
    ('vtm/acc_edit_action', '... over an action edit', 50.0),
    ('mc/acc_vtm', 'VTM alone picks the true caption of 5', 'mc/chance'),
    ('probe/object_color_trajectory',
     'probe: object colour from its trajectory token',
     'probe/object_color_chance'),
    ('probe/object_color_frames',
     'probe: object colour from frame tokens + class',
     'probe/object_color_chance'),
    ('probe/object_action_trajectory',
     'probe: object action from its trajectory token',
     'probe/object_action_chance'),
    ('probe/action_set_auc_actions',
     'probe: clip action set from action tokens (AUC)', 50.0),
    ('probe/action_set_auc_frames',
     'probe: clip action set from frame tokens (AUC)', 50.0),
]
VTM_PRIOR = float(-(np.log(1 / 3) / 3 + 2 * np.log(2 / 3) / 3))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data', default='data/demo')
    parser.add_argument('--out', default=None)
    return parser.parse_args(argv)


def _json(*path):
    with open(osp.join(*path), encoding='utf-8') as f:
        return json.load(f)


def retrieval_chance(data: str) -> dict:
    import csv
    with open(osp.join(data, 'MSRVTT_JSFUSION_test.csv'), newline='',
              encoding='utf-8') as f:
        n = sum(1 for _ in csv.DictReader(f))
    return {'t2v/R1': 100 / n, 't2v/R5': 500 / n, 't2v/R10': 1000 / n,
            't2v/MdR': (n + 1) / 2}


def qa_chance(data: str) -> dict:
    train = _json(data, 'msrvtt_qa', 'train_qa.json')
    test = _json(data, 'msrvtt_qa', 'test_qa.json')
    majority = Counter(e['answer'] for e in train).most_common(1)[0][0]
    return {'acc': 100 * np.mean([e['answer'] == majority for e in test])}


def caption_chance(data: str) -> dict:
    from stoavlp.evaluation.metrics import CaptionMetric
    meta = _json(data, 'meta.json')
    clips = [c for c in meta['clips'] if c['split'] == 'test']
    rng = np.random.default_rng(0)
    other = rng.permutation(len(clips))
    other = np.where(other == np.arange(len(clips)),
                     (other + 1) % len(clips), other)
    metric = CaptionMetric()
    metric.process(None, [
        dict(video_id=c['video_id'], gt_captions=c['captions'],
             pred_caption=clips[j]['captions'][0])
        for c, j in zip(clips, other)
    ])
    return metric.compute_metrics(metric.results)


def mechanism_rows(work_dir: str) -> list:
    """Rows of the pre-trained model's mechanism metrics and VTM loss."""
    rows = []
    path = osp.join(work_dir, 'mechanism', 'test_metrics.json')
    if osp.isfile(path):
        metrics = _json(path)
        for key, label, chance in MECHANISM:
            value = metrics.get(key)
            base = metrics.get(chance) if isinstance(chance, str) else chance
            if value is None or base is None:
                continue
            rows.append(f'| Pre-trained model | {label} | {value:.1f} | '
                        f'{base:.1f} | {value / base:.1f}x |')
    from stoavlp.visualization.curves import (find_latest_scalars,
                                              read_losses, summarize)
    scalars = find_latest_scalars(osp.join(work_dir, 'pretrain'))
    losses = read_losses(scalars) if scalars else {}
    if 'loss_vtm' in losses:
        last = dict((n, v) for n, _, v in summarize(losses))['loss_vtm']
        rows.append(f'| Pre-training | loss_vtm, last 10 % (prior '
                    f'{VTM_PRIOR:.3f}) | {last:.3f} | {VTM_PRIOR:.3f} | '
                    f'{VTM_PRIOR / last:.1f}x lower |')
    return rows


def main(argv=None):
    args = parse_args(argv)
    chance = dict(retrieval=retrieval_chance(args.data),
                  mc={'acc': 20.0}, qa=qa_chance(args.data),
                  caption=caption_chance(args.data))
    lines = ['| task | metric | demo model | chance | x chance |',
             '|---|---|---|---|---|']
    for task, (title, keys) in TASKS.items():
        path = osp.join(args.work_dir, task, 'test_metrics.json')
        if not osp.isfile(path):
            lines.append(f'| {title} | (no {path}) | | | |')
            continue
        metrics = _json(path)
        for key in keys:
            value = next(v for k, v in metrics.items()
                         if k == key or k.endswith('/' + key) or
                         k.endswith(key))
            base = chance[task][key]
            if key.endswith('MdR'):  # lower is better
                ratio = f'{base / value:.1f}x better' if value else '-'
            else:
                ratio = f'{value / base:.1f}x' if base else 'inf'
            lines.append(f'| {title} | {key} | {value:.1f} | {base:.1f} | '
                         f'{ratio} |')
    lines += mechanism_rows(args.work_dir)
    table = '\n'.join(lines)
    print(table)
    out = args.out or osp.join(args.work_dir, 'results.md')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(table + '\n')
    print(f'table: {out}')


if __name__ == '__main__':
    main()
