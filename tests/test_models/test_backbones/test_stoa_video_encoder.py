"""STOAVideoEncoder: the video side every algorithm and the recogniser
share."""
import pytest
import torch

from stoavlp.registry import MODELS
from stoavlp.testing import synthetic_batch

W = 32


def video_cfg(**kwargs):
    return dict(
        dict(type='STOAVideoEncoder',
             backbone=dict(type='CLIPVideoEncoder', image_size=32,
                           patch_size=8, width=W, layers=3, heads=2,
                           embed_dim=W, feature_layers=(2, 3)),
             trajectory_encoder=dict(type='TrajectoryEncoder', width=W,
                                     embed_dim=W, heads=2, num_frames=4,
                                     max_objects=4, num_trajectories=3),
             action_encoder=dict(type='ActionEncoder', width=W, embed_dim=W,
                                 heads=2, num_actions=2, num_frames=4),
             object_layer=2, action_layer=3), **kwargs)


def boxes(samples):
    return [torch.stack([s.get(k) for s in samples])
            for k in ('obj_boxes', 'obj_labels', 'obj_mask')]


def test_outputs_equal_the_parts_run_by_hand():
    torch.manual_seed(0)
    encoder = MODELS.build(video_cfg()).eval()
    inputs, samples = synthetic_batch(2, frames=4, objects=4, size=32)
    video = torch.stack(inputs).float() / 255
    obj_boxes, labels, mask = boxes(samples)
    with torch.no_grad():
        out = encoder(video, obj_boxes, labels, mask)
        clip = encoder.backbone(video)
        traj = encoder.trajectory_encoder(
            clip['layer_tokens'][2][:, :, 1:], obj_boxes, labels, mask,
            image_size=(32, 32))
        action = encoder.action_encoder(clip['layer_tokens'][3],
                                        traj['object_tokens'],
                                        traj['object_mask'])
    torch.testing.assert_close(out['video_feature'], clip['video_feature'])
    torch.testing.assert_close(out['trajectory_tokens'],
                               traj['trajectory_tokens'])
    torch.testing.assert_close(out['action_tokens'], action['action_tokens'])
    assert out['trajectory_tokens'].shape == (2, 3, W)
    assert out['action_tokens'].shape == (2, 2, W)


def test_necks_start_from_the_top_video_blocks():
    torch.manual_seed(0)
    encoder = MODELS.build(video_cfg())
    encoder.init_weights()
    top = encoder.backbone.transformer.resblocks[-1]
    for neck in encoder.necks:
        torch.testing.assert_close(
            neck.transformer.resblocks[-1].attn.in_proj_weight,
            top.attn.in_proj_weight)
    torch.manual_seed(0)
    kept = MODELS.build(video_cfg(init_necks_from_backbone=False))
    kept.init_weights()
    assert not torch.equal(
        kept.action_encoder.transformer.resblocks[-1].attn.in_proj_weight,
        kept.backbone.transformer.resblocks[-1].attn.in_proj_weight)


def test_bad_input_and_configs_say_what_is_wrong():
    with pytest.raises(ValueError, match=r'action_layer=1 is not among'):
        MODELS.build(video_cfg(action_layer=1))
    encoder = MODELS.build(video_cfg())
    with pytest.raises(ValueError, match='needs obj_boxes'):
        encoder(torch.zeros(1, 4, 3, 32, 32))
    bare = MODELS.build(video_cfg(trajectory_encoder=None,
                                  action_encoder=None))
    assert bare.necks == []
    assert set(bare(torch.zeros(1, 4, 3, 32, 32))) == {'frame_features',
                                                       'video_feature'}
