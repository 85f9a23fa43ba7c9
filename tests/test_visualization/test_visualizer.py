"""VideoTextVisualizer: boxes where the data says, colours per trajectory,
GIFs, OTA/ASP labels equal to a brute-force assignment; LossCurvesHook."""
import itertools
import json
import os.path as osp
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from PIL import Image

from stoavlp.registry import DATASETS, HOOKS, MODELS, VISUALIZERS
from stoavlp.structures import VideoTextDataSample
from stoavlp.visualization import trajectory_colors
from stoavlp.visualization.loading import pipeline_tokenizer

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                    'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')
GREY = (60, 60, 60)
# (frame, trajectory, x1, y1, x2, y2) on 32 x 32 frames: trajectory 0 in
# frames 0 and 1, trajectory 1 in all three, far enough apart that no label
# tag covers another box's outline.
BOXES = [(0, 0, 4, 14, 14, 26), (1, 0, 6, 14, 16, 26), (0, 1, 18, 4, 30, 12),
         (1, 1, 18, 5, 30, 13), (2, 1, 18, 6, 30, 14)]


def clip_sample(frames=3, size=32, objects=2):
    """A grey clip and a data sample holding ``BOXES``."""
    video = torch.full((frames, 3, size, size), GREY[0], dtype=torch.uint8)
    boxes = torch.zeros(frames, objects, 4)
    labels = torch.full((frames, objects), -1)
    for t, label, *box in BOXES:
        boxes[t, label] = torch.tensor(box, dtype=torch.float32)
        labels[t, label] = label
    sample = VideoTextDataSample(
        metainfo=dict(video_id='clip0', obj_classes=['circle', 'star'],
                      text='a circle moves and a star falls',
                      pred_caption='a circle and a star'))
    sample.set_data(dict(obj_boxes=boxes, obj_labels=labels,
                         obj_mask=labels >= 0,
                         obj_class_conf=torch.tensor([2.0, 1.5])))
    return video, sample


def build_visualizer(tmp_path, **kwargs):
    return VISUALIZERS.build(dict(
        type='VideoTextVisualizer', name=f'vis_{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path), **kwargs))


def test_boxes_are_drawn_where_the_data_says(tmp_path):
    video, sample = clip_sample()
    visualizer = build_visualizer(tmp_path, scale=4)
    drawing = visualizer.add_datasample('clip0', video, sample, step=3)
    sheet = np.asarray(Image.open(
        tmp_path / 'vis_data' / 'vis_image' / 'clip0_3.png').convert('RGB'))
    assert drawing['scale'] == 4 and list(drawing['shown']) == [0, 1, 2]
    colors = trajectory_colors(2)
    seen = {}
    for t, label, x1, y1, x2, y2 in BOXES:
        ox, oy = drawing['frame_origins'][t]
        s = drawing['scale']
        left = sheet[oy + s * (y1 + y2) // 2, ox + s * x1]
        bottom = sheet[oy + s * y2 - 1, ox + s * (x1 + x2) // 2]
        inside = sheet[oy + s * (y1 + y2) // 2, ox + s * (x1 + x2) // 2]
        assert tuple(left) == colors[label], (t, label)
        assert tuple(bottom) == colors[label], (t, label)
        assert tuple(inside) == GREY, (t, label)
        # one pixel outside the box is background
        assert tuple(sheet[oy + s * (y1 + y2) // 2, ox + s * x1 - 1]) == GREY
        seen.setdefault(label, set()).add(tuple(left))
    # the same trajectory has one colour in every frame, each its own
    assert all(len(c) == 1 for c in seen.values())
    assert seen[0] != seen[1]
    assert 'generated: a circle and a star' in drawing['lines'][0]
    assert drawing['lines'][1].startswith('trajectory 0 circle: in 2/3')
    assert drawing['lines'][2].startswith('trajectory 1 star: in 3/3')


def test_gif_has_every_frame_with_its_boxes(tmp_path):
    video, sample = clip_sample(frames=3)
    visualizer = build_visualizer(tmp_path, scale=2)
    visualizer.add_datasample('clip0', video, sample, max_frames=2)
    gif = Image.open(tmp_path / 'vis_data' / 'vis_image' / 'clip0_0.gif')
    assert gif.n_frames == 3 and gif.size == (64, 64)
    gif.seek(2)  # frame 2: only trajectory 1, box (18, 6, 30, 14)
    frame = np.asarray(gif.convert('RGB')).astype(int)
    color = np.array(trajectory_colors(2)[1])
    assert np.abs(frame[2 * 10, 2 * 18] - color).max() <= 8
    assert np.abs(frame[2 * 20, 2 * 8] - np.array(GREY)).max() <= 8


def test_tensorboard_backend_gets_the_sheet(tmp_path):
    pytest.importorskip('tensorboard')
    video, sample = clip_sample()
    visualizer = VISUALIZERS.build(dict(
        type='VideoTextVisualizer', name='vis_tensorboard',
        vis_backends=[dict(type='TensorboardVisBackend')],
        save_dir=str(tmp_path)))
    visualizer.add_datasample('clip0', video, sample, draw_gif=False)
    assert list((tmp_path / 'vis_data').glob('events.out.tfevents.*'))


def brute_force(score):
    """Pairs of the assignment maximising ``score (P, C)``'s total over
    all injective maps of the smaller side into the larger one."""
    p, c = score.shape
    best, pairs = -1.0, None
    if p <= c:
        for cols in itertools.permutations(range(c), p):
            total = sum(score[i, j] for i, j in enumerate(cols))
            if total > best:
                best, pairs = total, set(enumerate(cols))
    else:
        for rows in itertools.permutations(range(p), c):
            total = sum(score[i, j] for j, i in enumerate(rows))
            if total > best:
                best, pairs = total, {(i, j) for j, i in enumerate(rows)}
    return pairs


def caption_word(caption, position, tokenizer):
    """The whitespace-separated word of ``caption`` holding the BPE piece
    at token ``position`` (found through the tokenizer's character
    offsets, not through the visualizer's decoding)."""
    start, end = tokenizer(caption)['offsets'][0, position]
    while start > 0 and not caption[start - 1].isspace():
        start -= 1
    while end < len(caption) and not caption[end].isspace():
        end += 1
    return caption[start:end].lower()


@pytest.fixture(scope='module')
def demo_model_and_batch(demo_root):
    torch.manual_seed(0)
    cfg = Config.fromfile(PRETRAIN)
    cfg.train_dataloader.dataset.data_root = demo_root
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = MODELS.build(cfg.model).eval()
    items = [dataset[i] for i in (0, 5)]
    data = model.data_preprocessor(
        dict(inputs=[i['inputs'] for i in items],
             data_samples=[i['data_samples'] for i in items]), False)
    return model, dataset, items, data['inputs'], data['data_samples']


def test_matches_shown_equal_a_brute_force_assignment(demo_model_and_batch,
                                                      tmp_path):
    model, dataset, items, inputs, samples = demo_model_and_batch
    tokenizer = pipeline_tokenizer(dataset)
    explained = model.explain(inputs, samples)
    with torch.no_grad():
        video = model.encode_video(inputs, samples)
        ids = torch.stack([s.token_ids for s in samples])
        text = model.encode_text(
            ids, torch.stack([s.attention_mask for s in samples]))
    visualizer = build_visualizer(tmp_path, tokenizer=tokenizer)
    matched_pairs = 0
    for b, sample in enumerate(samples):
        eot = int(text['eot_index'][b])
        drawing = visualizer.add_datasample(
            f'clip{b}', items[b]['inputs'], items[b]['data_samples'],
            explained[b], draw_gif=False)
        for kind, preds, pred_valid, tags, pred_key, token_key in (
                ('trajectory', video['trajectory_tokens'][b],
                 video['trajectory_mask'][b], sample.noun_mask,
                 'ota_trajectory', 'ota_token'),
                ('action', video['action_tokens'][b],
                 torch.ones(video['action_tokens'].shape[1], dtype=bool),
                 sample.verb_mask, 'asp_action', 'asp_token')):
            candidates = tags.nonzero().flatten().tolist() + [eot]
            valid = pred_valid.nonzero().flatten().tolist()
            score = (preds[valid] @ text['token_features'][b][candidates].T
                     ).softmax(-1).numpy()
            expected = {(valid[i], candidates[j])
                        for i, j in brute_force(score)}
            got = set(zip(explained[b][pred_key].tolist(),
                          explained[b][token_key].tolist()))
            assert got == expected, (b, kind)
            words = drawing[f'{kind}_words']
            for pred, token in expected:
                word = 't_CLS' if token == eot else caption_word(
                    sample.metainfo['text'], token, tokenizer)
                assert words[pred] == word
                if kind == 'trajectory':
                    assert any(line.startswith(f'trajectory {pred} ') and
                               line.endswith(f'; OTA -> {word}')
                               for line in drawing['lines'])
                else:
                    assert f'action token {pred}: ASP -> {word}' in \
                        drawing['lines']
            matched_pairs += len(expected)
    assert matched_pairs >= 4  # both losses matched something


def test_explain_pairs_are_the_pairs_the_ota_loss_regresses(
        demo_model_and_batch):
    model, _, _, inputs, samples = demo_model_and_batch
    explained = model.explain(inputs, samples)
    with torch.no_grad():
        video = model.encode_video(inputs, samples)
        ids = torch.stack([s.token_ids for s in samples])
        text = model.encode_text(
            ids, torch.stack([s.attention_mask for s in samples]))
        loss = model.ota_loss(
            video['trajectory_tokens'], video['trajectory_mask'],
            text['token_features'], torch.stack([s.noun_mask
                                                 for s in samples]),
            text['eot_index'])
    pred = torch.cat([video['trajectory_tokens'][b, e['ota_trajectory']]
                      for b, e in enumerate(explained)])
    target = torch.cat([text['token_features'][b, e['ota_token']]
                        for b, e in enumerate(explained)])
    assert model.ota_loss.normalize  # the demo config's
    expected = (F.normalize(pred, dim=-1) - F.normalize(target, dim=-1)
                ).pow(2).sum(-1).mean()
    torch.testing.assert_close(loss, expected)


class _Logger:

    def __init__(self):
        self.infos, self.warnings = [], []

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)


def fake_runner(tmp_path, records=None, raw=None):
    log_dir = tmp_path / 'work' / '20240101_000000'
    (log_dir / 'vis_data').mkdir(parents=True)
    if records is not None or raw is not None:
        (log_dir / 'vis_data' / 'scalars.json').write_text(
            raw if raw is not None else
            '\n'.join(json.dumps(r) for r in records) + '\n')
    return types.SimpleNamespace(log_dir=str(log_dir),
                                 work_dir=str(tmp_path / 'work'),
                                 logger=_Logger())


LOSSES = ('loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm', 'loss_ota',
          'loss_asp')


def test_loss_curves_hook_draws_the_six_losses(tmp_path):
    records = [dict(step=s, lr=1e-3, loss=6.0 / s,
                    **{n: 1.0 / s + k for k, n in enumerate(LOSSES)})
               for s in range(1, 41)]
    records.append(dict(step=40, accuracy=0.5))  # a metric, not a loss
    runner = fake_runner(tmp_path, records)
    HOOKS.build(dict(type='LossCurvesHook')).after_run(runner)
    out = tmp_path / 'work' / 'losses.png'
    assert out.stat().st_size > 10_000
    width, height = Image.open(out).size
    assert (width, height) == (1600, 600)  # 7 panels: 4 + 3 at 400 x 300
    summary = runner.logger.infos[-1]
    for name in LOSSES:
        assert any(line.startswith(name) and line.endswith('fell')
                   for line in summary.splitlines())
    assert not runner.logger.warnings


@pytest.mark.parametrize('records,raw', [
    (None, None),  # no scalars.json (e.g. no local vis backend)
    ([dict(step=1, accuracy=1.0)], None),  # a test run: metrics, no losses
    (None, '{not json'),  # unreadable
])
def test_loss_curves_hook_never_fails_a_run(tmp_path, records, raw):
    runner = fake_runner(tmp_path, records, raw)
    HOOKS.build(dict(type='LossCurvesHook')).after_run(runner)
    assert not (tmp_path / 'work' / 'losses.png').exists()
    assert runner.logger.infos or runner.logger.warnings
