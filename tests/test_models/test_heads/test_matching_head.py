"""VTM heads: the official bilinear head and the linear one."""
import torch
import torch.nn.functional as F

from stoavlp.models.heads import VTMHead, VTMLinearHead


def test_bilinear_logits_equal_the_formula():
    torch.manual_seed(0)
    head = VTMHead(width=6, dropout=0.0)
    head.bilinear.data += 0.1 * torch.randn_like(head.bilinear)
    v, t = torch.randn(5, 6), torch.randn(5, 6)
    vn, tn = F.normalize(v, dim=-1), F.normalize(t, dim=-1)
    want = torch.stack([(vn @ head.bilinear[k] * tn).sum(-1)
                        for k in range(2)], -1)
    assert torch.allclose(head(v, t), want, atol=1e-5)
    assert torch.allclose(head(v, t).softmax(-1)[:, 1],
                          want.softmax(-1)[:, 1], atol=1e-6)


def test_linear_logits_equal_the_formula():
    torch.manual_seed(0)
    head = VTMLinearHead(width=6, dropout=0.0)
    v, t = torch.randn(5, 6), torch.randn(5, 6)
    want = torch.cat([v, t, v * t], -1) @ head.fc.weight.t() + head.fc.bias
    assert torch.allclose(head(v, t), want, atol=1e-6)
    assert not hasattr(head, 'bilinear')


def _train(head, steps=300):
    """Matched pairs share a direction, unmatched ones do not (1 : 2), the
    demo's ratio of positives to hard negatives."""
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.0)
    for _ in range(steps):
        v = torch.randn(48, 16, generator=g)
        t = torch.cat([v[:16] + 0.5 * torch.randn(16, 16, generator=g),
                       torch.randn(32, 16, generator=g)])
        labels = torch.cat([torch.ones(16), torch.zeros(32)]).long()
        loss = head.loss_module(head(v, t), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss)


def test_the_linear_head_leaves_the_class_prior_in_few_steps():
    """Why the demo's VTM stayed at its prior: on unit vectors the official
    head's logit gap grows one optimizer step at a time."""
    prior = float(-(1 / 3 * torch.tensor(1 / 3).log() +
                    2 / 3 * torch.tensor(2 / 3).log()))
    official = _train(VTMHead(width=16, dropout=0.0))
    linear = _train(VTMLinearHead(width=16, dropout=0.0))
    assert official > 0.8 * prior   # barely below the prior (0.55)
    assert linear < 0.7 * prior     # 0.40
