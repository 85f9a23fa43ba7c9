"""visualize_clip.py, visualize_retrieval.py and plot_losses.py end to end
on the demo data with the tiny demo configs (checkpoints: freshly built
models' weights)."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from PIL import Image

from stoavlp.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'stoavlp', 'demo')
PRETRAIN = osp.join(DEMO, 'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')
RETRIEVAL = osp.join(DEMO,
                     'stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py')
CAPTION = osp.join(DEMO, 'stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'analysis_tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A checkpoint of a freshly built model per config."""
    folder = tmp_path_factory.mktemp('checkpoints')
    paths = {}
    torch.manual_seed(0)
    for name, config in (('pretrain', PRETRAIN), ('retrieval', RETRIEVAL),
                         ('caption', CAPTION)):
        model = MODELS.build(Config.fromfile(config).model)
        paths[name] = str(folder / f'{name}.pth')
        torch.save(dict(state_dict=model.state_dict()), paths[name])
    return paths


def test_visualize_clip_without_a_model(demo_root, demo_meta, tmp_path,
                                        capsys):
    drawing = load_tool('visualize_clip').main([
        PRETRAIN, '--index', '0', '--out', str(tmp_path), '--phase', 'train',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_root}'
    ])
    printed = capsys.readouterr().out
    video_id = drawing['lines'][0].split()[0]
    clip = next(c for c in demo_meta['clips'] if c['video_id'] == video_id)
    assert drawing['lines'][0].split('caption: ')[1] in clip['captions']
    assert not drawing['trajectory_words'] and 'OTA' not in printed
    sheet = Image.open(tmp_path / f'{video_id}_0.png')
    assert sheet.size[0] >= 8 * 224  # all 8 frames, upscaled to 224
    assert not (tmp_path / f'{video_id}_0.gif').exists()


def test_visualize_clip_with_a_pretrained_model(demo_root, checkpoints,
                                                tmp_path, capsys):
    drawing = load_tool('visualize_clip').main([
        PRETRAIN, checkpoints['pretrain'], '--video-id', 'video3', '--out',
        str(tmp_path), '--gif', '--frames', '4', '--phase', 'train',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_root}'
    ])
    printed = capsys.readouterr().out
    assert 'STOAVLPPretrainer' in printed
    assert drawing['lines'][0].startswith('video3 ')
    # every trajectory and every action token is listed with its match
    trajectories = [line for line in drawing['lines']
                    if line.startswith('trajectory ')]
    assert trajectories and all('; OTA -> ' in line
                                for line in trajectories)
    assert sum(line.startswith('action token ') for line in
               drawing['lines']) == 4  # the tiny ActionEncoder's M
    assert drawing['trajectory_words'] and drawing['action_words']
    assert len(drawing['shown']) == 4
    gif = Image.open(tmp_path / 'video3_0.gif')
    assert gif.n_frames == 8 and gif.size == (224, 224)
    assert Image.open(tmp_path / 'video3_0.png').size[0] >= 4 * 224


def test_visualize_clip_shows_the_generated_caption(demo_root, checkpoints,
                                                    tmp_path):
    drawing = load_tool('visualize_clip').main([
        CAPTION, checkpoints['caption'], '--index', '1', '--out',
        str(tmp_path), '--cfg-options',
        f'test_dataloader.dataset.data_root={demo_root}'
    ])
    generated = [line for line in drawing['lines'][0].splitlines()
                 if line.startswith('generated: ')]
    assert len(generated) == 1 and len(generated[0]) > len('generated: ')
    assert not drawing['action_words']  # a captioner has no OTA/ASP


def result_lines(printed):
    return [line for line in printed.splitlines() if line.startswith('#')]


def test_visualize_retrieval_of_a_test_text(demo_root, checkpoints,
                                            tmp_path, capsys):
    out = str(tmp_path / 'retrieval.png')
    ranked = load_tool('visualize_retrieval').main([
        RETRIEVAL, checkpoints['retrieval'], '--index', '2', '--out', out,
        '--topk', '3', '--cfg-options',
        f'test_dataloader.dataset.data_root={demo_root}'
    ])
    printed = capsys.readouterr().out
    num_videos = int(printed.split(' videos, ')[0].split()[-1])
    assert num_videos >= 4  # the demo test split
    lines = result_lines(printed)
    assert len(lines) == 3 and lines[0].startswith('#1 ')
    scores = ranked['scores']
    assert scores == sorted(scores, reverse=True)
    assert 1 <= ranked['rank'] <= num_videos
    # one text per demo test video: text 2's ground truth is video 2,
    # marked exactly where it is
    marked = [i for i, line in enumerate(lines) if 'GROUND TRUTH' in line]
    assert marked == ([ranked['videos'].index(2)]
                      if 2 in ranked['videos'] else [])
    if ranked['rank'] <= 3:
        assert ranked['videos'][ranked['rank'] - 1] == 2
    assert f'ground truth ranked #{ranked["rank"]} of {num_videos}' in \
        printed
    width, height = Image.open(out).size
    assert width >= 3 * 224 and height >= 3 * 224


def test_visualize_retrieval_of_a_free_query(demo_root, checkpoints,
                                             tmp_path, capsys):
    out = str(tmp_path / 'query.png')
    ranked = load_tool('visualize_retrieval').main([
        RETRIEVAL, checkpoints['retrieval'], '--query',
        'a purple moon is singing', '--out', out, '--topk', '3',
        '--frames', '1', '--cfg-options',
        f'test_dataloader.dataset.data_root={demo_root}'
    ])
    printed = capsys.readouterr().out
    assert len(result_lines(printed)) == 3 and ranked['rank'] is None
    assert 'no ground truth in the set' in printed
    assert len(set(ranked['videos'])) == 3
    assert Image.open(out).size[1] >= 3 * 224


def test_plot_losses_cli_prints_the_table(tmp_path, capsys):
    run = tmp_path / 'work' / '20240101_000000' / 'vis_data'
    run.mkdir(parents=True)
    with open(run / 'scalars.json', 'w') as f:
        for step in range(1, 21):
            f.write(json.dumps(dict(step=step, loss_vtc=2.0 / step,
                                    loss_asp=0.5 + 0.01 * step)) + '\n')
    load_tool('plot_losses').main([str(tmp_path / 'work')])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f'{"loss":<12}{"first 10%":>12}{"last 10%":>12}' \
                         f'{"ratio":>8}'
    assert printed[1].startswith('loss_asp') and \
        printed[1].endswith('DID NOT FALL')
    assert printed[2].split()[1:3] == ['1.5000', '0.1026']
    assert printed[2].endswith('fell')
    assert printed[3] == f'picture: {tmp_path / "work" / "losses.png"}'
    assert (tmp_path / 'work' / 'losses.png').stat().st_size > 10_000
