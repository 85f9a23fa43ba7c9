"""TrajectoryEncoder (eq. 1): RoIAlign values, packed == dense, masks; the
registered RoI layers (roi_layer)."""
import math

import numpy as np
import pytest
import torch

from mmengine.registry import DefaultScope
from torchvision.ops import roi_align

from stoavlp.models.necks.roi_layers import (MMCVRoIAlign,
                                             TorchvisionRoIAlign,
                                             build_roi_align)
from stoavlp.registry import MODELS
from stoavlp.testing.references import dense_trajectory_tokens

W, T, K, N, GRID, IMG = 32, 4, 4, 3, 4, 32


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='TrajectoryEncoder', width=W, embed_dim=24, heads=2,
               num_frames=T, max_objects=K, num_trajectories=N)
    cfg.update(kwargs)
    encoder = MODELS.build(cfg).eval()
    with torch.no_grad():  # non-zero position embeddings, so they count
        encoder.box_position.normal_(std=0.1)
        encoder.frame_position.normal_(std=0.1)
    return encoder


def random_inputs(seed=0, b=3):
    g = torch.Generator().manual_seed(seed)
    patches = torch.randn(b, T, GRID * GRID, W, generator=g)
    xy = torch.rand(b, T, K, 2, generator=g) * 24
    wh = 2 + torch.rand(b, T, K, 2, generator=g) * 10
    boxes = torch.cat([xy, (xy + wh).clamp(max=IMG)], -1)
    labels = torch.randint(0, N + 1, (b, T, K), generator=g)
    mask = torch.rand(b, T, K, generator=g) < 0.7
    mask[0] = False  # a clip with no boxes at all
    labels[~mask] = -1
    return patches, boxes, labels, mask


def bilinear(feat, y, x):
    """RoIAlign's bilinear sample of ``feat (C, H, W)`` (float64)."""
    c, h, w = feat.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return np.zeros(c)
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * feat[:, y0, x0] + (1 - ly) * lx *
            feat[:, y0, x1] + ly * (1 - lx) * feat[:, y1, x0] +
            ly * lx * feat[:, y1, x1])


def roi_align_reference(feat, box, out):
    """Direct RoIAlign (aligned=True, adaptive sampling) of one box."""
    x1, y1, x2, y2 = [v - 0.5 for v in box]
    bin_h, bin_w = (y2 - y1) / out, (x2 - x1) / out
    ny, nx = math.ceil((y2 - y1) / out), math.ceil((x2 - x1) / out)
    result = np.zeros((feat.shape[0], out, out))
    for i in range(out):
        for j in range(out):
            acc = 0
            for iy in range(ny):
                for ix in range(nx):
                    y = y1 + i * bin_h + (iy + 0.5) * bin_h / ny
                    x = x1 + j * bin_w + (ix + 0.5) * bin_w / nx
                    acc = acc + bilinear(feat, y, x)
            result[:, i, j] = acc / (ny * nx)
    return result


def test_roi_align_equals_direct_crop_and_pool():
    encoder = build(roi_size=3)
    patches, boxes, labels, mask = random_inputs(1, b=2)
    mask[:] = True
    objects = encoder.object_tokens(patches, boxes, mask, (IMG, IMG))
    feat = patches.reshape(2 * T, GRID, GRID, W).permute(0, 3, 1, 2)
    scale = GRID / IMG
    for b, t, k in [(0, 0, 0), (1, 2, 3), (1, 3, 1), (0, 1, 2)]:
        ref = roi_align_reference(feat[b * T + t].double().numpy(),
                                  (boxes[b, t, k] * scale).tolist(), 3)
        pooled = torch.from_numpy(ref.max(axis=(1, 2))).float()  # MaxPool
        want = encoder.box_mlp(pooled) + encoder.box_position[t, k] + \
            encoder.coord_mlp(boxes[b, t, k] / IMG)
        torch.testing.assert_close(objects[b, t, k], want, atol=1e-5,
                                   rtol=1e-5)


def test_box_token_ignores_far_patches():
    encoder = build()
    patches, boxes, labels, mask = random_inputs(2)
    boxes[1, 0, 0] = torch.tensor([0., 0., 7., 7.])  # top-left grid cell
    boxes[1, 0, 1] = torch.tensor([25., 25., 32., 32.])  # bottom-right
    mask[1, 0, :2] = True
    before = encoder.object_tokens(patches, boxes, mask, (IMG, IMG))
    patches[1, 0, GRID * GRID - 1] += 10  # bottom-right cell
    after = encoder.object_tokens(patches, boxes, mask, (IMG, IMG))
    torch.testing.assert_close(before[1, 0, 0], after[1, 0, 0])
    assert not torch.allclose(before[1, 0, 1], after[1, 0, 1])


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_packed_trajectories_equal_dense_reference(seed):
    encoder = build()
    patches, boxes, labels, mask = random_inputs(seed)
    out = encoder(patches, boxes, labels, mask, (IMG, IMG))
    dense = dense_trajectory_tokens(encoder, out['object_tokens'], labels,
                                    mask)
    torch.testing.assert_close(out['trajectory_tokens'], dense, atol=1e-5,
                               rtol=1e-5)
    present = torch.stack([((labels == n) & mask).flatten(1).any(1)
                           for n in range(N)], 1)
    assert torch.equal(out['trajectory_mask'], present)
    assert (out['trajectory_tokens'][~present] == 0).all()
    assert not present[0].any()  # the clip without boxes


def test_trajectory_uses_only_its_class():
    encoder = build()
    patches, boxes, labels, mask = random_inputs(3)
    out = encoder(patches, boxes, labels, mask, (IMG, IMG))
    # move every box of class 1 in clip 2: only trajectory 1 changes
    moved = boxes.clone()
    moved[2][labels[2] == 1] += 1.0
    out2 = encoder(patches, moved, labels, mask, (IMG, IMG))
    changed = (out['trajectory_tokens'][2] - out2['trajectory_tokens'][2]
               ).abs().sum(-1) > 1e-6
    assert changed.tolist() == [False, bool(out['trajectory_mask'][2, 1]),
                                False]
    torch.testing.assert_close(out['trajectory_tokens'][1],
                               out2['trajectory_tokens'][1])


def test_no_boxes_in_batch_keeps_every_parameter_in_the_graph():
    encoder = build().train()
    patches, boxes, labels, mask = random_inputs(4)
    mask[:] = False
    labels[:] = -1
    out = encoder(patches, boxes, labels, mask, (IMG, IMG))
    assert not out['trajectory_mask'].any()
    assert (out['trajectory_tokens'] == 0).all()
    out['trajectory_tokens'].sum().backward()
    assert all(p.grad is not None for name, p in encoder.named_parameters()
               if name.startswith(('transformer', 'cls_token', 'ln_post',
                                   'proj')))


def mmcv_ops_missing():
    try:
        import mmcv.ops  # noqa: F401
        return False
    except ImportError:
        return True


def test_default_roi_layer_is_torchvision():
    # what roi_backend='auto' picked without full mmcv (same values as
    # mmcv's, see test_roi_layers_equal_direct_torchvision_call)
    layer = build().roi_align
    assert type(layer) is TorchvisionRoIAlign
    assert (layer.output_size, layer.spatial_scale, layer.sampling_ratio,
            layer.aligned) == (7, 1.0, -1, True)
    assert build(roi_size=3).roi_align.output_size == 3


@pytest.mark.parametrize('layer_type', ['TorchvisionRoIAlign',
                                        'MMCVRoIAlign'])
@pytest.mark.parametrize('size', [3, 7])
def test_roi_layers_equal_direct_torchvision_call(layer_type, size):
    if layer_type == 'MMCVRoIAlign' and mmcv_ops_missing():
        pytest.skip('full mmcv is not installed')
    g = torch.Generator().manual_seed(size)
    feat = torch.randn(3, W, GRID + 2, GRID, generator=g)
    xy = torch.rand(20, 2, generator=g) * GRID
    wh = torch.rand(20, 2, generator=g) * GRID
    rois = torch.cat([torch.randint(0, 3, (20, 1), generator=g).float(), xy,
                      xy + wh], 1)
    layer = build_roi_align(dict(type=layer_type), size)
    assert type(layer).__name__ == layer_type
    want = roi_align(feat, rois, output_size=size, spatial_scale=1.0,
                     sampling_ratio=-1, aligned=True)
    assert want.shape == (20, W, size, size)
    torch.testing.assert_close(layer(feat, rois), want)
    layer = MODELS.build(dict(type=layer_type, output_size=size,
                              spatial_scale=0.5))
    torch.testing.assert_close(
        layer(feat, rois * rois.new_tensor([1, 2, 2, 2, 2])), want)


def test_roi_layer_errors():
    with pytest.raises(KeyError, match="roi_layer type 'cuda' is not "
                       'registered.*TorchvisionRoIAlign, MMCVRoIAlign'):
        build_roi_align(dict(type='cuda'), 7)
    with pytest.raises(KeyError, match="roi_layer type 'RoIPool'"):
        build(roi_layer=dict(type='RoIPool'))
    with pytest.raises(TypeError, match="roi_layer must be a dict with a "
                       "'type'"):
        build_roi_align('torchvision', 7)  # the former roi_backend
    if mmcv_ops_missing():
        for make in (lambda: build_roi_align(dict(type='MMCVRoIAlign'), 7),
                     lambda: build(roi_layer=dict(type='MMCVRoIAlign')),
                     lambda: MMCVRoIAlign(7)):
            with pytest.raises(ImportError, match='MMCVRoIAlign needs full '
                               'mmcv.*bash tools/install_mmcv_full.sh'):
                make()


def test_roi_layer_from_another_default_scope():
    """Unprefixed roi_layer types resolve in the stoavlp scope, also when a
    project (default scope mmaction) builds ``stoavlp.TrajectoryEncoder``."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        encoder = MODELS.build(dict(type='stoavlp.TrajectoryEncoder',
                                    width=W, embed_dim=24, heads=2,
                                    num_frames=T, max_objects=K,
                                    num_trajectories=N))
    assert type(encoder.roi_align) is TorchvisionRoIAlign


@pytest.mark.skipif(mmcv_ops_missing(), reason='full mmcv is not installed')
def test_roi_layers_mmcv_equals_torchvision():
    patches = torch.randn(2, W, GRID, GRID)
    rois = torch.tensor([[0, 0.5, 0.3, 3.1, 2.2], [1, 1.2, 0.0, 4.0, 4.0]])
    torch.testing.assert_close(
        build_roi_align(dict(type='MMCVRoIAlign'), 3)(patches, rois),
        build_roi_align(dict(type='TorchvisionRoIAlign'), 3)(patches, rois))
    # the encoder feeds RoIAlign a channels-last view of the patch tokens;
    # both layers must give the same object tokens from it
    inputs = random_inputs()
    torch.testing.assert_close(
        build(roi_layer=dict(type='MMCVRoIAlign')).object_tokens(
            *inputs[:2], inputs[3], (IMG, IMG)),
        build(roi_layer=dict(type='TorchvisionRoIAlign')).object_tokens(
            *inputs[:2], inputs[3], (IMG, IMG)))
