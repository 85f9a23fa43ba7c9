"""VTC's temperature: CLIP's trained scale as the start, and it learns."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from stoavlp.models.losses import VTCLoss


def test_starts_from_the_clip_checkpoint_scale(tmp_path):
    path = str(tmp_path / 'clip.pt')
    torch.save({'token_embedding.weight': torch.zeros(4, 2),
                'logit_scale': torch.tensor(math.log(30.0))}, path)
    loss = VTCLoss(pretrained=path)
    assert float(loss.scale()) == pytest.approx(1 / 0.07, rel=1e-5)
    loss.init_weights()
    assert float(loss.scale()) == pytest.approx(30.0, rel=1e-5)
    # OpenAI's ViT-B/16 stores ln(100) + a little: clamped at 100
    torch.save({'token_embedding.weight': torch.zeros(4, 2),
                'logit_scale': torch.tensor(4.6052 + 0.3)}, path)
    loss = VTCLoss(pretrained=path)
    loss.init_weights()
    assert float(loss.logit_scale) == pytest.approx(math.log(100), abs=1e-6)
    torch.save({'token_embedding.weight': torch.zeros(4, 2)}, path)
    with pytest.raises(KeyError, match='logit_scale'):
        VTCLoss(pretrained=path).init_weights()


@pytest.mark.parametrize('config', [
    'configs/stoavlp/stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-'
    'pretrain.py',
    'configs/retrieval/stoavlp_vit-b16-u12-res224_8xb8-5e_msrvtt-9k-'
    'retrieval.py',
])
def test_the_paper_schedules_let_the_scale_learn(config):
    """The schedules once gave logit_scale lr_mult=1e-3: lr 1e-8, frozen."""
    cfg = Config.fromfile(config)
    model = torch.nn.Module()
    model.vtc_loss = VTCLoss(init_temperature=0.05)  # scale 20, not clamped
    model.video_encoder = torch.nn.Linear(2, 2)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    group = next(g for g in wrapper.optimizer.param_groups
                 if any(p is model.vtc_loss.logit_scale for p in g['params']))
    assert group['lr'] >= base_lr
    assert group['weight_decay'] == 0
    g = torch.Generator().manual_seed(0)
    start = float(model.vtc_loss.logit_scale)
    for _ in range(10):
        video = torch.randn(8, 4, generator=g)
        loss = model.vtc_loss(video, video + 0.1 * torch.randn(8, 4,
                                                               generator=g))
        wrapper.update_params(loss)
    assert abs(float(model.vtc_loss.logit_scale) - start) > 5 * base_lr
