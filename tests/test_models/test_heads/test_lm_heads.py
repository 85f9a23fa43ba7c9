"""The token-predicting heads' own sampling: MLM masks, PLM split points
and targets, and the caption head's fixed split."""
from types import SimpleNamespace

import torch

from stoavlp.models.heads import CaptionHead, MLMHead, PLMHead


def test_mlm_mask_sampling():
    ids = torch.full((4, 12), 7)
    lengths = torch.tensor([12, 5, 3, 8])  # SOT + words + EOT
    attn = (torch.arange(12)[None] < lengths[:, None]).long()
    mlm = MLMHead()
    draw = torch.rand(4, 12, generator=torch.Generator().manual_seed(0))
    mask = mlm.sample_mask(ids, attn, draw)
    for b, n in enumerate(lengths.tolist()):
        assert not mask[b, 0] and not mask[b, n - 1:].any()  # SOT/EOT/pad
        assert mask[b, 1:n - 1].sum() >= 1
        assert mask[b, 1:n - 1].tolist() == (
            (draw[b, 1:n - 1] < 0.15) |
            (draw[b, 1:n - 1] == draw[b, 1:n - 1].min())).tolist()
    big = torch.rand(2000, 30, generator=torch.Generator().manual_seed(1))
    rate = mlm.sample_mask(torch.ones(2000, 30, dtype=torch.long),
                           torch.ones(2000, 30, dtype=torch.long),
                           big).float()[:, 1:-1].mean()
    assert 0.14 < rate < 0.17


def test_plm_split_and_targets():
    eot = torch.tensor([1, 2, 9, 31])
    head = PLMHead()
    for seed in range(20):
        features = SimpleNamespace(
            eot_index=eot, generator=torch.Generator().manual_seed(seed))
        split = head.sample_split(features)
        draw = torch.rand(4, generator=torch.Generator().manual_seed(seed))
        assert split.tolist() == (1 + (draw * eot).floor().long()).tolist()
        assert ((split >= 1) & (split <= eot)).all()
    split = torch.tensor([1, 2, 4, 31])
    mask = PLMHead.target_mask(split, eot, 32)
    assert mask[2].nonzero().flatten().tolist() == [3, 4, 5, 6, 7, 8]
    assert mask[0].nonzero().flatten().tolist() == [0]  # SOT predicts EOT
    assert mask[3].nonzero().flatten().tolist() == [30]


def test_the_caption_head_predicts_the_whole_caption():
    eot = torch.tensor([3, 7])
    features = SimpleNamespace(eot_index=eot, generator=None)
    assert CaptionHead().sample_split(features).tolist() == [1, 1]
    mask = CaptionHead.target_mask(torch.ones(2, dtype=torch.long), eot, 8)
    assert mask.sum(1).tolist() == [3, 7]  # SOT .. EOT - 1
