"""The table and the chart of ``ablation_study.py``: mean ± std over seeds,
each row's difference from Base with the seeds it holds in, bars with error
bars. Reads ``<work-dir>/<row>/seed_<s>/metrics.json``."""
import json
import os.path as osp

import numpy as np

LABELS = dict(none='no pre-training', base='Base', obj='+Obj',
              obj_ota='+Obj +OTA', obj_act_ota='+Obj +Act +OTA',
              full='full (+ASP)')
# (task, metric key in its test_metrics.json, column name)
METRICS = [('mc', 'mc/acc', 'MC acc'), ('retrieval', 't2v/R1', 'R@1'),
           ('retrieval', 't2v/R5', 'R@5'), ('retrieval', 't2v/MdR', 'MdR'),
           ('caption', 'CIDEr', 'CIDEr'), ('qa', 'acc', 'QA acc'),
           ('mechanism', 'ota/acc', 'OTA acc')]
LOWER_IS_BETTER = {'MdR'}


def collect(work_dir, rows, seeds):
    """``{row: {column: [value per seed]}}`` of the finished runs."""
    table = {}
    for row in rows:
        for seed in seeds:
            path = osp.join(work_dir, row, f'seed_{seed}',
                            'metrics.json')
            if not osp.isfile(path):
                continue
            with open(path, encoding='utf-8') as f:
                run = json.load(f)
            cols = table.setdefault(row, {})
            for task, key, name in METRICS:
                value = _lookup(run.get(task, {}), key)
                if value is not None:
                    cols.setdefault(name, []).append(float(value))
            cols.setdefault('seconds', []).append(run['seconds'])
    return table


def _lookup(metrics, key):
    """``key`` of a test_metrics dict whose keys may carry a prefix
    (``caption/CIDEr``, ``qa/acc``)."""
    for name, value in metrics.items():
        if name == key or name.endswith('/' + key):
            return value
    return None


def markdown(table, seeds):
    names = [name for _, _, name in METRICS]
    lines = ['| row | ' + ' | '.join(names) + ' |',
             '|---|' + '---|' * len(names)]
    for row, cols in table.items():
        cells = []
        for name in names:
            values = cols.get(name)
            cells.append('-' if not values else
                         f'{np.mean(values):.1f} ± {np.std(values):.1f}')
        lines.append(f'| {LABELS[row]} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(f'mean ± std over seeds {seeds} (population std); '
                 'MdR lower is better.')
    base = table.get('base')
    if base:
        lines += ['', 'Difference from Base, mean (seeds where the row is '
                  'better / seeds):', '',
                  '| row | ' + ' | '.join(names[:-1]) + ' |',
                  '|---|' + '---|' * (len(names) - 1)]
        for row, cols in table.items():
            if row == 'base':
                continue
            cells = []
            for name in names[:-1]:
                a, b = cols.get(name), base.get(name)
                if not a or not b or len(a) != len(b):
                    cells.append('-')
                    continue
                diff = np.array(a) - np.array(b)
                sign = -1 if name in LOWER_IS_BETTER else 1
                wins = int((sign * diff > 0).sum())
                cells.append(f'{diff.mean():+.1f} ({wins}/{len(diff)})')
            lines.append(f'| {LABELS[row]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def bar_chart(table, out):
    from matplotlib.figure import Figure
    names = [name for _, _, name in METRICS]
    rows = list(table)
    fig = Figure(figsize=(3.2 * len(names), 3.6))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        means = [np.mean(table[r].get(name, [np.nan])) for r in rows]
        stds = [np.std(table[r].get(name, [np.nan])) for r in rows]
        ax.bar(range(len(rows)), means, yerr=stds, capsize=3,
               color=[f'C{i}' for i in range(len(rows))])
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([LABELS[r] for r in rows], rotation=60,
                           ha='right', fontsize=7)
        ax.set_title(name + (' (lower is better)' if name in LOWER_IS_BETTER
                             else ''), fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
