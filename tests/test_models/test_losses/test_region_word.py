"""RegionWordLoss against a float64 brute-force InfoNCE."""
import math

import torch

from stoavlp.models.losses import RegionWordLoss


def brute_force(regions, words, valid, scale):
    pairs = [(b, n) for b in range(valid.shape[0])
             for n in range(valid.shape[1]) if valid[b, n]]
    r = torch.stack([regions[b, n] for b, n in pairs]).double()
    w = torch.stack([words[b, n] for b, n in pairs]).double()
    r = r / r.norm(dim=-1, keepdim=True)
    w = w / w.norm(dim=-1, keepdim=True)
    total = 0.0
    for i in range(len(pairs)):
        sim_rw = [scale * float(r[i] @ w[j]) for j in range(len(pairs))]
        sim_wr = [scale * float(w[i] @ r[j]) for j in range(len(pairs))]
        lse = lambda v: math.log(sum(math.exp(x) for x in v))  # noqa: E731
        total += ((lse(sim_rw) - sim_rw[i]) + (lse(sim_wr) - sim_wr[i])) / 2
    return total / len(pairs)


def test_equals_brute_force_and_ignores_invalid_pairs():
    g = torch.Generator().manual_seed(0)
    regions = torch.randn(3, 4, 8, generator=g, requires_grad=True)
    words = torch.randn(3, 4, 8, generator=g)
    valid = torch.tensor([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]]).bool()
    loss_fn = RegionWordLoss(init_temperature=0.1)
    loss = loss_fn(regions, words, valid)
    assert abs(float(loss) - brute_force(regions, words, valid, 10.0)) < 1e-5
    # changing an invalid row changes nothing
    regions2 = regions.detach().clone()
    regions2[0, 1] += 5
    assert torch.allclose(loss_fn(regions2, words, valid), loss)
    loss.backward()
    assert regions.grad[valid].abs().sum() > 0
    assert regions.grad[~valid].abs().sum() == 0
    assert loss_fn.logit_scale.grad is not None


def test_no_pair_gives_zero_with_a_graph():
    regions = torch.randn(2, 3, 4, requires_grad=True)
    loss = RegionWordLoss()(regions, torch.randn(2, 3, 4),
                            torch.zeros(2, 3, dtype=torch.bool))
    assert float(loss) == 0
    loss.backward()
