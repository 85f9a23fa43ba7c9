"""A training epoch over corrupt videos: skipped, counted across workers."""
import json
import re
from pathlib import Path

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='LoadObjectDetections', max_objects=4),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='ProjectObjectBoxes'),
    dict(type='TokenizeText', pos_tagger=None),
    dict(type='PackVideoTextInputs'),
]


class _MeanModel(BaseModel):
    """Enough of a model to drive the Runner over packed samples."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, inputs, data_samples=None, mode='loss'):
        video = torch.stack(inputs).float() / 255  # (B, T, 3, H, W)
        return dict(loss=(self.scale * video.mean() - 1).pow(2))


def test_epoch_with_corrupt_videos_completes_and_reports(corrupt_demo,
                                                         tmp_path):
    root, bad = corrupt_demo
    runner = Runner(
        model=_MeanModel(),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            batch_size=4,
            num_workers=2,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type='WebVidDataset',
                ann_file='webvid/demo_train.csv',
                data_root=root,
                data_prefix=dict(video='videos', objects='objects'),
                pipeline=PIPELINE)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[dict(type='BadSampleHook')],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=5)),
        default_scope='stoavlp')
    runner.train()
    dataset = runner.train_dataloader.dataset
    bad_items = sum(1 for i in range(len(dataset))
                    if dataset.get_data_info(i)['video_id'] in bad)
    skipped = runner.message_hub.get_info('bad_samples_last_epoch')
    # every bad item was replaced (replacements may be bad themselves) ...
    assert skipped >= bad_items
    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    listed = json.loads(
        Path(tmp_path, 'work', 'bad_samples_epoch_1.json').read_text())
    distinct = runner.message_hub.get_info('bad_files_last_epoch')
    assert distinct == len(listed) == len({e['path'] for e in listed})
    assert sum(e['skips'] for e in listed) == skipped
    assert [e['skips'] for e in listed] == sorted(
        (e['skips'] for e in listed), reverse=True)
    assert (f'Epoch 1: skipped {skipped} sample(s) from {distinct} distinct '
            'bad file(s)') in log
    assert 'bad_samples_epoch_1.json' in log
    # ... and the hook's total, gathered from the samples the two workers
    # returned, equals the skips the workers logged one by one
    assert log.count('Skipping bad sample') == skipped
    assert {f'{v}.mp4' for v in bad} <= set(
        re.findall(r'(video\d+\.mp4): Decord', log))
    assert {Path(e['path']).name for e in listed} <= {f'{v}.mp4' for v in bad}
