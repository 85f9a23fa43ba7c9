"""print_config.py, eval_metric.py, check_videos.py (mmaction2's analysis
tools)."""
import csv
import importlib.util
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RETRIEVAL = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                     'stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'analysis_tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its functions pickle (worker processes)
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


def test_check_videos_finds_every_kind_of_bad_video(corrupt_demo, tmp_path,
                                                    capsys):
    """The 4 broken videos of ``corrupt_demo`` (truncated, not a video,
    zero bytes, missing), a 3-frame one under a 6-frame sampler, a missing
    and a malformed detection file, each named with its problem."""
    from stoavlp.datasets.demo.video import write_mp4
    root, bad = corrupt_demo
    with open(osp.join(root, 'webvid', 'demo_train.csv')) as f:
        rows = list(csv.DictReader(f))
    videos = []
    for row in rows:
        if row['videoid'] not in bad and row['videoid'] not in videos:
            videos.append(row['videoid'])
    short, no_objects, broken_objects = videos[:3]
    write_mp4(osp.join(root, 'videos', f'{short}.mp4'),
              np.zeros((3, 64, 64, 3), np.uint8), fps=10)
    os.remove(osp.join(root, 'objects', f'{no_objects}.json'))
    with open(osp.join(root, 'objects', f'{broken_objects}.json'), 'w') as f:
        f.write('[{"objects": [{"class": "dog"}]}]')
    config = tmp_path / 'check.py'
    config.write_text(f'''
train_dataloader = dict(dataset=dict(
    type='WebVidDataset', ann_file='webvid/demo_train.csv',
    data_root={root!r},
    data_prefix=dict(video='videos', objects='objects'),
    pipeline=[
        dict(type='DecordInit'),
        dict(type='UniformSample', clip_len=6, test_mode=False),
        dict(type='DecordDecode'),
        dict(type='LoadObjectDetections', max_objects=4),
        dict(type='Resize', scale=(-1, 64)),
        dict(type='PackVideoTextInputs'),
    ]))
''')
    out = str(tmp_path / 'bad.json')
    found = load_tool('check_videos').main([str(config), '--workers', '2',
                                            '--out', out])
    problems = {osp.basename(r['path'])[:-4]: r['problem'] for r in found}
    assert problems == {
        bad[0]: 'undecodable', bad[1]: 'undecodable', bad[2]: 'undecodable',
        bad[3]: 'missing video', short: 'too short',
        no_objects: 'missing detection file',
        broken_objects: 'malformed detection file'}
    with open(out) as f:
        assert json.load(f) == found
    printed = capsys.readouterr().out
    assert f'{len(set(r["videoid"] for r in rows))} videos checked: 7 bad' \
        in printed


def test_get_flops_per_part_against_the_transformer_formula(capsys):
    """The text encoder of the demo model: per caption of L tokens, each
    block costs 24 L W^2 (projections, MLP 4x) + 4 L^2 W (attention scores
    and weighted sum, counted on a CPU too), plus the projection of the L
    token features (2 L W D)."""
    from mmengine.config import Config
    tool = load_tool('get_flops')
    config = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                      'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')
    flops, params = tool.main([config, '--mode', 'tensor', '--batch', '2'])
    text = Config.fromfile(config).model.text_encoder
    width, layers, length = text.width, text.layers, 32  # the tool's text
    per_text = layers * (24 * length * width**2 + 4 * length**2 * width)
    projection = 2 * length * width * text.embed_dim
    assert flops['text_encoder'] == 2 * (per_text + projection)
    parts = [p for p in flops if p != 'total']
    # the video side (STOAVideoEncoder) part by part: CLIP and its necks
    assert {'video_encoder.backbone', 'video_encoder.trajectory_encoder',
            'video_encoder.action_encoder'} <= set(parts)
    assert sum(flops[p] for p in parts) == flops['total']
    assert sum(params[p] for p in parts) == params['total']
    printed = capsys.readouterr().out
    assert '| text_encoder |' in printed and '| total |' in printed
