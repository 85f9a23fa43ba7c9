"""Tiny STOA-VLP models and synthetic batches for the model tests."""
import copy

import pytest

from stoavlp.testing import synthetic_batch

W = 32  # every width: video, text, joint
TINY = dict(
    type='STOAVLPPretrainer',
    video_encoder=dict(
        type='STOAVideoEncoder',
        backbone=dict(type='CLIPVideoEncoder', image_size=32, patch_size=8,
                      width=W, layers=3, heads=2, embed_dim=W,
                      feature_layers=(2, 3)),
        trajectory_encoder=dict(type='TrajectoryEncoder', width=W,
                                embed_dim=W, heads=2, num_frames=4,
                                max_objects=4, num_trajectories=3),
        action_encoder=dict(type='ActionEncoder', width=W, embed_dim=W,
                            heads=2, num_actions=2, num_frames=4),
        object_layer=2,
        action_layer=3),
    text_encoder=dict(type='CLIPTextEncoder', width=W, layers=2, heads=2,
                      embed_dim=W),
    fusion_encoder=dict(type='FusionEncoder', width=W, layers=2, heads=2,
                        max_positions=48),
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMHead', width=W, dropout=0.0),
    lm_head=dict(type='TiedLMHead', width=W, dropout=0.0),
    mlm_head=dict(type='MLMHead'),
    plm_head=dict(type='PLMHead'),
    ota_loss=dict(type='OTALoss'),
    asp_loss=dict(type='ASPLoss'))


@pytest.fixture
def tiny_cfg():
    return copy.deepcopy(TINY)


def model_inputs(model, batch):
    inputs, samples = batch
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   True)
    return data['inputs'], data['data_samples']


@pytest.fixture
def make_batch():
    """``make_batch(**kwargs)`` -> ``(inputs, data_samples)``."""
    return synthetic_batch


@pytest.fixture
def prepare():
    """``prepare(model, batch)`` -> preprocessed ``(inputs, samples)``."""
    return model_inputs
