"""ActionEncoder (eq. 2)."""
import torch

from stoavlp.registry import MODELS

W, T, HW, K, M = 32, 4, 16, 3, 2


def build():
    torch.manual_seed(0)
    return MODELS.build(dict(type='ActionEncoder', width=W, embed_dim=24,
                             heads=2, num_actions=M, num_frames=T)).eval()


def test_frame_pooling_is_eq2():
    encoder = build()
    g = torch.Generator().manual_seed(1)
    patches = torch.randn(2, T, HW, W, generator=g) * 0.3
    objects = torch.randn(2, T, K, W, generator=g) * 0.3
    mask = torch.rand(2, T, K, generator=g) < 0.5
    pooled = encoder.pool_frames(patches, objects, mask)  # (B, M, T, C)
    q = encoder.queries.double()
    for b in range(2):
        for t in range(T):
            f = torch.cat([patches[b, t], objects[b, t][mask[b, t]]]).double()
            for m in range(M):
                x = torch.softmax(q[m] @ f.t(), 0) @ f  # x_i = softmax(q F^T) F
                torch.testing.assert_close(pooled[b, m, t].double(), x,
                                           atol=1e-5, rtol=1e-5)


def test_masked_objects_do_not_matter_and_shapes():
    encoder = build()
    layer = torch.randn(2, T, 1 + HW, W)
    objects = torch.randn(2, T, K, W)
    mask = torch.zeros(2, T, K, dtype=torch.bool)
    mask[:, :, 0] = True
    out = encoder(layer, objects, mask)['action_tokens']
    assert out.shape == (2, M, 24)
    objects[:, :, 1:] += 100 * torch.randn(W)  # invalid objects
    torch.testing.assert_close(encoder(layer, objects, mask)['action_tokens'],
                               out)
    objects[:, :, 0] += torch.randn(W)  # a valid object
    assert not torch.allclose(
        encoder(layer, objects, mask)['action_tokens'], out)
    # without objects (an ablation) only patches are pooled
    assert encoder(layer)['action_tokens'].shape == (2, M, 24)


def test_initialised_from_top_backbone_blocks():
    encoder = build()
    backbone = MODELS.build(dict(type='CLIPVideoEncoder', image_size=32,
                                 patch_size=8, width=W, layers=3, heads=2,
                                 embed_dim=24, feature_layers=(2, 3)))
    encoder.init_from_backbone(backbone)
    for ours, theirs in zip(encoder.transformer.resblocks,
                            backbone.transformer.resblocks[1:]):
        for (k, a), (_, b) in zip(ours.state_dict().items(),
                                  theirs.state_dict().items()):
            assert torch.equal(a, b), k
    assert torch.equal(encoder.proj, backbone.proj)
