"""print_config.py and eval_metric.py (mmaction2's analysis tools)."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RETRIEVAL = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                     'stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'analysis_tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_print_config_merges_bases_and_options(tmp_path, capsys):
    out = str(tmp_path / 'merged.json')
    cfg = load_tool('print_config').main(
        [RETRIEVAL, '--cfg-options', 'model.rerank_topk=3',
         '--save-path', out])
    printed = capsys.readouterr().out
    assert 'RetrievalLoop' in printed  # from a _base_ file
    assert 'rerank_topk=3' in printed
    with open(out) as f:
        saved = json.load(f)
    assert saved['model']['rerank_topk'] == 3 == cfg.model.rerank_topk


def test_eval_metric_rescores_a_retrieval_dump(tmp_path, capsys):
    from mmengine.fileio import dump
    rng = np.random.default_rng(0)
    t2v = rng.integers(1, 30, size=200).tolist()
    v2t = rng.integers(1, 30, size=50).tolist()
    items = [dict(t2v_rank=r, query_id=f'video{i}#0') for i, r in
             enumerate(t2v)] + [dict(v2t_rank=r) for r in v2t]
    pkl = str(tmp_path / 'preds.pkl')
    dump(items, pkl)
    metrics = load_tool('eval_metric').main(
        [RETRIEVAL, pkl, '--cfg-options', 'test_evaluator.topk=[1,5,50]'])
    t2v, v2t = np.array(t2v), np.array(v2t)
    for k in (1, 5, 50):
        assert metrics[f't2v/R{k}'] == pytest.approx(100 * (t2v <= k).mean())
        assert metrics[f'v2t/R{k}'] == pytest.approx(100 * (v2t <= k).mean())
    assert metrics['t2v/MdR'] == pytest.approx(np.median(t2v))
    assert '| R@1 |' in capsys.readouterr().out  # the paper-layout table
    with pytest.raises(FileNotFoundError, match='predictions not found'):
        load_tool('eval_metric').main([RETRIEVAL, str(tmp_path / 'x.pkl')])
