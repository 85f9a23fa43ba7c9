"""projects/stoa_action_recognition: an mmaction2 recogniser on stoavlp's
trajectory and action necks, trained through mmaction2's Runner."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(ROOT, 'projects', 'stoa_action_recognition')
CONFIG = osp.join(PROJECT, 'configs',
                  'stoa-tiny_u8-112px_1xb8-20e_demo-action.py')
# the recogniser's backbone (stoavlp.STOAVideoEncoder) holds the necks
NECKS = ('trajectory_encoder', 'action_encoder')
ABLATIONS = {
    'no-action-neck': ('action_encoder', 2),
    'no-trajectory-neck': ('trajectory_encoder', 2),
    'no-necks': (None, 1),
}
W, FRAMES, SIZE, NUM_CLASSES = 32, 4, 64, 8


def shrink(cfg: Config) -> Config:
    """The project config at test size: width 32, 1-2 blocks, 4 frames of
    64 px (a 4x4 patch grid). Changes ``cfg`` in place."""
    model = cfg.model
    video = model.backbone  # the STOAVideoEncoder
    video.backbone.update(image_size=SIZE, width=W, layers=2, heads=2,
                          embed_dim=W, feature_layers=(1, 2))
    for neck in NECKS:
        if video.get(neck):
            video[neck].update(width=W, embed_dim=W, heads=2, layers=1,
                               num_frames=FRAMES)
    if video.get('trajectory_encoder'):
        video.trajectory_encoder.num_trajectories = 3
    if video.get('action_encoder'):
        video.action_encoder.num_actions = 2
    video.object_layer, video.action_layer = 1, 2
    model.cls_head.in_channels = model.cls_head.in_channels // cfg.width * W
    model.cls_head.dropout_ratio = 0.0
    for name in ('train_pipeline', 'test_pipeline'):
        for step in cfg[name]:
            if step['type'] == 'UniformSample':
                step['clip_len'] = FRAMES
            elif step['type'] == 'Resize':
                step['scale'] = tuple(SIZE if s == cfg.image_size else s
                                      for s in step['scale'])
            elif step['type'] == 'CenterCrop':
                step['crop_size'] = SIZE
    return cfg


def demo_config(demo_root: str, ann_dir: str, work_dir: str) -> Config:
    cfg = shrink(Config.fromfile(CONFIG))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            ann_file=osp.join(ann_dir, f'{split}.txt'),
            data_prefix=dict(video=demo_root),
            pipeline=cfg.train_pipeline if split == 'train'
            else cfg.test_pipeline)
    cfg.train_dataloader.dataset.indices = 2  # one batch: ONE iteration
    cfg.test_dataloader.dataset.indices = 4
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = work_dir
    return cfg


class NeckProbe(Hook):
    """Keeps the neck parameters as training starts and every loss."""

    def __init__(self):
        self.before, self.losses = {}, []

    def before_train(self, runner) -> None:
        self.before = {
            name: p.detach().clone()
            for name, p in runner.model.named_parameters()
            if name.startswith(('backbone.trajectory_encoder.',
                                'backbone.action_encoder.'))
        }

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.losses.append(float(outputs['loss']))


@pytest.fixture
def annotations(demo_root, tmp_path):
    from projects.stoa_action_recognition.tools.make_action_annotations \
        import make_action_annotations
    return make_action_annotations(demo_root, str(tmp_path / 'ann'))


def test_annotations_follow_meta(annotations, demo_meta):
    actions = demo_meta['actions']
    rows = {}
    for split in ('train', 'val', 'test'):
        with open(annotations[split], encoding='utf-8') as f:
            for line in f:
                video, *ids = line.split()
                rows[video] = [int(i) for i in ids]
    assert len(rows) == len(demo_meta['clips'])
    for clip in demo_meta['clips']:
        expected = sorted({actions.index(o['action'])
                           for o in clip['objects']})
        assert rows[clip['video']] == expected


def test_train_one_iter_and_predict(demo_root, annotations, tmp_path):
    cfg = demo_config(demo_root, osp.dirname(annotations['train']),
                      str(tmp_path / 'work'))
    with DefaultScope.overwrite_default_scope('mmaction'):
        runner = Runner.from_cfg(cfg)
        probe = NeckProbe()
        runner.register_hook(probe)
        runner.train()
        model = runner.model

        # ONE iteration, finite loss, both stoavlp necks updated (boxes
        # reach the trajectory neck: its box-coordinate MLP learns).
        assert len(probe.losses) == 1 and np.isfinite(probe.losses[0])
        after = dict(model.named_parameters())
        changed = {n for n, p in probe.before.items()
                   if not torch.equal(p, after[n].detach())}
        for name in ('backbone.trajectory_encoder.coord_mlp.0.weight',
                     'backbone.trajectory_encoder.box_mlp.0.weight',
                     'backbone.action_encoder.queries',
                     'backbone.action_encoder.transformer.resblocks.0.attn.'
                     'in_proj_weight'):
            assert name in changed, name

        # Predictions: one score per class for every test clip.
        model.eval()
        loader = runner.test_dataloader
        scores = []
        for batch in loader:
            for sample in model.test_step(batch):
                scores.append(sample.pred_score)
        scores = torch.stack(scores)
        assert scores.shape == (len(loader.dataset), NUM_CLASSES)
        assert torch.isfinite(scores).all()
        metrics = runner.test()
        assert 'acc/mean_average_precision' in metrics

        # Value: the pooled feature is exactly the stoavlp necks' output.
        data = model.data_preprocessor(next(iter(loader)), False)
        inputs, samples = data['inputs'], data['data_samples']
        assert inputs.shape[1:] == (FRAMES, 3, SIZE, SIZE)
        with torch.no_grad():
            pooled = model(inputs, samples, mode='tensor', stage='neck')
            # the CLIP tower, then each neck by hand
            video = model.backbone.backbone(inputs)
            boxes = torch.stack([torch.as_tensor(s.obj_boxes)
                                 for s in samples])
            labels = torch.stack([torch.as_tensor(s.obj_labels)
                                  for s in samples])
            mask = torch.stack([torch.as_tensor(s.obj_mask)
                                for s in samples])
            traj = model.backbone.trajectory_encoder(
                video['layer_tokens'][1][:, :, 1:], boxes, labels, mask,
                image_size=(SIZE, SIZE))
            action = model.backbone.action_encoder(
                video['layer_tokens'][2], traj['object_tokens'],
                traj['object_mask'])
        assert traj['trajectory_mask'].any()  # the boxes were loaded
        present = traj['trajectory_mask'].float()
        traj_mean = (traj['trajectory_tokens'] * present[..., None]).sum(1) \
            / present.sum(1, keepdim=True).clamp(min=1)
        expected = torch.cat([video['video_feature'], traj_mean,
                              action['action_tokens'].mean(1)], -1)
        assert pooled.shape == (len(samples), 3 * W)
        torch.testing.assert_close(pooled, expected)
        scores = model(inputs, samples, mode='tensor', stage='head')
        assert scores.shape == (len(samples), NUM_CLASSES)


def synthetic_samples(num_clips: int):
    """Data samples with two boxes per frame, as the pipeline packs them."""
    from mmaction.structures import ActionDataSample
    samples = []
    for _ in range(num_clips):
        boxes = np.zeros((FRAMES, 10, 4), np.float32)
        boxes[:, :2] = [[4, 4, 30, 30], [20, 24, 60, 50]]
        labels = np.full((FRAMES, 10), -1, np.int64)
        labels[:, :2] = [0, 1]
        sample = ActionDataSample().set_gt_label(
            torch.tensor([1., 0, 0, 0, 0, 0, 1, 0]))
        sample.set_field(boxes, 'obj_boxes')
        sample.set_field(labels, 'obj_labels')
        sample.set_field(labels >= 0, 'obj_mask')
        samples.append(sample)
    return samples


@pytest.mark.parametrize('ablation', sorted(ABLATIONS))
def test_ablation_configs_drop_a_neck(ablation):
    from mmaction.registry import MODELS
    dropped, parts = ABLATIONS[ablation]
    cfg = shrink(Config.fromfile(CONFIG.replace('.py', f'_{ablation}.py')))
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    for neck in NECKS:
        assert (getattr(model.backbone, neck) is None) == (
            dropped in (None, neck)), neck
    assert model.num_pooled_parts == parts
    samples = synthetic_samples(2)
    inputs = torch.randn(2, FRAMES, 3, SIZE, SIZE)
    pooled = model(inputs, samples, mode='tensor', stage='neck')
    assert pooled.shape == (2, parts * W)
    losses = model(inputs, samples, mode='loss')
    losses['loss_cls'].backward()
    assert torch.isfinite(losses['loss_cls'])
