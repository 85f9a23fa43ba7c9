"""VideoTextDataPreprocessor (stacking, CLIP normalisation, data samples)
and stack_field."""
import pytest
import torch

from stoavlp.models.data_preprocessors import (VideoTextDataPreprocessor,
                                               stack_field)
from stoavlp.registry import MODELS
from stoavlp.structures import VideoTextDataSample

# OpenAI CLIP's preprocessing (clip/clip.py): ToTensor (x / 255), then
# Normalize with these statistics on the 0-1 scale.
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def clips(batch=2, frames=3, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (frames, 3, size, size), generator=g,
                          dtype=torch.uint8) for _ in range(batch)]


def samples(batch=2, length=5):
    out = []
    for i in range(batch):
        sample = VideoTextDataSample()
        sample.set_field(torch.arange(length) + i, 'token_ids')
        sample.set_field(torch.ones(length, dtype=torch.long),
                         'attention_mask')
        out.append(sample)
    return out


def test_stacks_and_normalises_as_openai_clip():
    preprocessor = MODELS.build(dict(type='VideoTextDataPreprocessor'))
    assert isinstance(preprocessor, VideoTextDataPreprocessor)
    inputs = clips()
    out = preprocessor(dict(inputs=inputs), False)
    assert out['inputs'].shape == (2, 3, 3, 8, 8)
    assert out['inputs'].dtype == torch.float32
    mean = torch.tensor(OPENAI_MEAN).view(3, 1, 1)
    std = torch.tensor(OPENAI_STD).view(3, 1, 1)
    for clip, video in zip(inputs, out['inputs']):
        torch.testing.assert_close(video, (clip.float() / 255 - mean) / std)
    assert out['data_samples'] is None


def test_stacked_tensor_input_and_training_flag():
    preprocessor = VideoTextDataPreprocessor()
    inputs = clips()
    listed = preprocessor(dict(inputs=inputs), False)['inputs']
    stacked = preprocessor(dict(inputs=torch.stack(inputs)), True)['inputs']
    assert torch.equal(listed, stacked)


def test_custom_statistics():
    preprocessor = VideoTextDataPreprocessor(mean=(0, 10, 20),
                                             std=(1, 2, 4))
    video = torch.full((1, 2, 3, 4, 4), 40, dtype=torch.uint8)
    out = preprocessor(dict(inputs=video))['inputs']
    assert out[:, :, 0].unique().tolist() == [40.0]
    assert out[:, :, 1].unique().tolist() == [15.0]
    assert out[:, :, 2].unique().tolist() == [5.0]


def test_data_samples_pass_through():
    preprocessor = VideoTextDataPreprocessor()
    given = samples()
    out = preprocessor(dict(inputs=clips(), data_samples=given), True)
    assert len(out['data_samples']) == 2
    for before, after in zip(given, out['data_samples']):
        assert torch.equal(after.token_ids, before.token_ids)
        assert torch.equal(after.attention_mask, before.attention_mask)


def test_statistics_are_not_checkpoint_entries():
    preprocessor = VideoTextDataPreprocessor()
    assert dict(preprocessor.named_buffers()).keys() == {'mean', 'std'}
    assert preprocessor.state_dict() == {}


def test_stack_field():
    given = samples(batch=3, length=4)
    ids = stack_field(given, 'token_ids')
    assert ids.shape == (3, 4)
    assert ids[:, 0].tolist() == [0, 1, 2]
    assert torch.equal(stack_field(given, 'attention_mask'),
                       torch.ones(3, 4, dtype=torch.long))
    # absent field, no samples
    assert stack_field(given, 'obj_boxes') is None
    assert stack_field([], 'token_ids') is None
    assert stack_field(None, 'token_ids') is None


def test_stack_field_needs_equal_shapes():
    given = samples(batch=2, length=4)
    given[1].set_field(torch.arange(5), 'token_ids')
    with pytest.raises(RuntimeError):
        stack_field(given, 'token_ids')
