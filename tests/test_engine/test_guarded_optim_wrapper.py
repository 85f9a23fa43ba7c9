"""Non-finite losses: the step is skipped (or the run stopped), samples
named."""
import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper

from stoavlp.models.algorithms.base import VideoTextModel
from stoavlp.structures import VideoTextDataSample


def wrapper_for(model, **kwargs):
    return build_optim_wrapper(
        model, dict(type='GuardedOptimWrapper',
                    optimizer=dict(type='AdamW', lr=0.1), **kwargs))


def test_nonfinite_loss_skips_the_step():
    MessageHub.get_instance('guard-test')
    model = nn.Linear(3, 1)
    wrapper = wrapper_for(model)
    before = model.weight.detach().clone()
    loss = model(torch.ones(1, 3)).sum() * float('nan')
    wrapper.update_params(loss)
    assert torch.equal(model.weight, before)  # no step
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    assert wrapper.skipped_steps == 1
    # a finite loss steps as usual
    wrapper.update_params(model(torch.ones(1, 3)).sum())
    assert not torch.equal(model.weight, before)


def test_nonfinite_loss_can_stop_the_run():
    model = nn.Linear(3, 1)
    wrapper = wrapper_for(model, nonfinite='stop')
    with pytest.raises(FloatingPointError, match='Non-finite loss'):
        wrapper.update_params(model(torch.ones(1, 3)).sum() * float('inf'))
    with pytest.raises(ValueError, match='nonfinite'):
        wrapper_for(model, nonfinite='ignore')


def test_model_names_the_samples_of_a_bad_batch(monkeypatch):
    samples = []
    for vid in ('video3', 'video7'):
        sample = VideoTextDataSample()
        sample.set_metainfo(dict(video_id=vid))
        samples.append(sample)
    warnings = []
    monkeypatch.setattr(MMLogger.get_current_instance(), 'warning',
                        warnings.append)
    VideoTextModel._warn_nonfinite(
        dict(loss_vtc=torch.tensor(1.0),
             loss_ota=torch.tensor(float('nan'))), samples)
    assert warnings == [
        "Non-finite loss_ota in a batch of samples ['video3', 'video7']"]
