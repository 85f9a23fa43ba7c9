"""The six objectives' loss modules against references computed another way.
"""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stoavlp.models.losses import (ASPLoss, OTALoss,
                                   VTCLoss, VTMLoss, hungarian_match)


def brute_force_assignment(score):
    """Best total score over all one-to-one assignments (rows <-> cols)."""
    n, m = score.shape
    best, best_pairs = -np.inf, None
    if n <= m:
        for cols in itertools.permutations(range(m), n):
            total = sum(score[i, c] for i, c in enumerate(cols))
            if total > best:
                best, best_pairs = total, list(zip(range(n), cols))
    else:
        for rows in itertools.permutations(range(n), m):
            total = sum(score[r, j] for j, r in enumerate(rows))
            if total > best:
                best, best_pairs = total, sorted(zip(rows, range(m)))
    return best, best_pairs


@pytest.mark.parametrize('shape', [(3, 3), (2, 5), (5, 2), (4, 6), (1, 1)])
def test_hungarian_equals_brute_force(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        score = rng.random(shape)
        rows, cols = hungarian_match(torch.from_numpy(score))
        best, pairs = brute_force_assignment(score)
        assert len(rows) == min(shape)
        assert score[rows, cols].sum() == pytest.approx(best)
        assert sorted(zip(rows.tolist(), cols.tolist())) == sorted(pairs)


def reference_set_loss(pred, pred_mask, targets, target_mask):
    """Eq. 6-9 by brute force, in float64."""
    matched = []
    for b in range(len(pred)):
        p = pred[b][pred_mask[b]].double()
        t = targets[b][target_mask[b]].double()
        if len(p) == 0 or len(t) == 0:
            continue
        score = torch.softmax(p @ t.t(), -1).numpy()
        _, pairs = brute_force_assignment(score)
        matched += [(p[i], t[j]) for i, j in pairs]
    diffs = torch.stack([a - b for a, b in matched])
    return (diffs**2).mean()


def test_ota_matches_nouns_plus_cls_and_detaches_text():
    g = torch.Generator().manual_seed(0)
    traj = torch.randn(3, 4, 8, generator=g, requires_grad=True)
    traj_mask = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]],
                             dtype=torch.bool)
    text = torch.randn(3, 6, 8, generator=g, requires_grad=True)
    nouns = torch.tensor([[0, 1, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0],
                          [0, 1, 1, 0, 0, 0]], dtype=torch.bool)
    eot = torch.tensor([5, 3, 4])
    loss = OTALoss()(traj, traj_mask, text, nouns, eot)
    targets = nouns.clone()
    targets[torch.arange(3), eot] = True  # t_CLS joins the candidates
    want = reference_set_loss(traj.detach(), traj_mask, text.detach(),
                              targets)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    loss.backward()
    assert text.grad is None  # the text side is not trained by OTA
    assert traj.grad[~traj_mask].abs().sum() == 0
    assert traj.grad[traj_mask].abs().sum() > 0


def test_asp_action_set_with_empty_element():
    g = torch.Generator().manual_seed(1)
    actions = torch.randn(2, 4, 8, generator=g, requires_grad=True)
    text = torch.randn(2, 7, 8, generator=g)
    verbs = torch.zeros(2, 7, dtype=torch.bool)
    verbs[0, [2, 4]] = True  # 2 verbs + empty: 3 of 4 actions matched
    eot = torch.tensor([6, 2])  # sample 1: no verb, only the empty action
    loss = ASPLoss()(actions, text, verbs, eot)
    targets = verbs.clone()
    targets[torch.arange(2), eot] = True
    want = reference_set_loss(actions.detach(),
                              torch.ones(2, 4, dtype=torch.bool), text,
                              targets)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)


def test_set_losses_finite_without_objects_or_words():
    traj = torch.randn(2, 3, 8, requires_grad=True)
    loss = OTALoss()(traj, torch.zeros(2, 3, dtype=torch.bool),
                     torch.randn(2, 5, 8), torch.zeros(2, 5,
                                                       dtype=torch.bool),
                     torch.tensor([4, 4]))
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()
    with pytest.raises(ValueError, match='similarity'):
        OTALoss(similarity='l2')


def test_vtc_equals_equations_3_to_5():
    g = torch.Generator().manual_seed(2)
    video, text = torch.randn(5, 16, generator=g), torch.randn(5, 16,
                                                               generator=g)
    vtc = VTCLoss(init_temperature=0.05)
    loss = vtc(video, text)
    v = F.normalize(video.double(), dim=-1)
    t = F.normalize(text.double(), dim=-1)
    sim = 20.0 * v @ t.t()  # sim[i, j] = sim(v^i, t^j)
    l_t2v = -sum(math.log(math.exp(sim[i, i]) / sum(
        math.exp(sim[j, i]) for j in range(5))) for i in range(5)) / 5
    l_v2t = -sum(math.log(math.exp(sim[i, i]) / sum(
        math.exp(sim[i, j]) for j in range(5))) for i in range(5)) / 5
    assert loss.item() == pytest.approx((l_t2v + l_v2t) / 2, rel=1e-5)
    with torch.no_grad():
        vtc.logit_scale.fill_(10.0)  # exp(10) > 100: clamped
    assert vtc.scale().item() == pytest.approx(100.0)


def test_vtm_hard_negatives():
    sim = torch.randn(6, 6) * 0.1
    sim[0, 3] = 50.0  # text 0 is very close to video 3
    neg_video, neg_text = VTMLoss().sample_hard_negatives(
        sim, torch.Generator().manual_seed(0))
    assert (neg_video != torch.arange(6)).all()
    assert (neg_text != torch.arange(6)).all()
    assert neg_video[0] == 3 and neg_text[3] == 0
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    labels = torch.tensor([1, 0])
    assert VTMLoss(loss_weight=2.0)(logits, labels).item() == pytest.approx(
        2 * F.cross_entropy(logits, labels).item())


def test_vtm_uniform_mix_draws_the_mixture():
    """(1 - a) softmax + a uniform, checked by counting 20 000 draws."""
    sim = torch.zeros(4, 4)
    sim[:, 1] = 30.0  # every text (but text 1) is close to video 1
    loss = VTMLoss(uniform_mix=0.5)
    counts = torch.zeros(4)
    g = torch.Generator().manual_seed(0)
    for _ in range(5000):
        neg_video, _ = loss.sample_hard_negatives(sim, g)
        counts[neg_video[0]] += 1
    # text 0: softmax puts ~1 on video 1; uniform 1/3 on each of 1, 2, 3
    want = torch.tensor([0.0, 0.5 + 0.5 / 3, 0.5 / 3, 0.5 / 3])
    assert torch.allclose(counts / counts.sum(), want, atol=0.02)
    never_hard = VTMLoss().sample_hard_negatives(sim, g)[0]
    assert never_hard[0] == 1
    with pytest.raises(ValueError, match='uniform_mix'):
        VTMLoss(uniform_mix=1.5)


def test_normalized_set_alignment_is_scale_free():
    g = torch.Generator().manual_seed(3)
    traj = torch.randn(2, 3, 8, generator=g)
    text = torch.randn(2, 5, 8, generator=g)
    args = (torch.ones(2, 3, dtype=torch.bool), text,
            torch.tensor([[0, 1, 1, 0, 0], [0, 1, 0, 0, 0]], dtype=torch.bool),
            torch.tensor([4, 3]))
    raw, scaled = OTALoss()(traj, *args), OTALoss()(3 * traj, *args)
    assert not torch.isclose(raw, scaled)
    norm = OTALoss(normalize=True)
    torch.testing.assert_close(norm(traj, *args), norm(3 * traj, *args))
    # one trajectory, one candidate (t_CLS): 2 - 2 cos
    o, t = torch.randn(1, 1, 8, generator=g), torch.randn(1, 4, 8,
                                                          generator=g)
    got = norm(o, torch.ones(1, 1, dtype=torch.bool), t,
               torch.zeros(1, 4, dtype=torch.bool), torch.tensor([2]))
    want = 2 - 2 * F.cosine_similarity(o[0, 0], t[0, 2], dim=0)
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
