# Demo multiple choice: the demo retrieval model (same training) scores the
# 5 candidate captions of each demo test clip with its VTM head.
_base_ = ['./stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py']

# the retrieval model, predicting by scoring each video's options
model = dict(type='STOAVLPMultipleChoice')

test_dataloader = dict(
    _delete_=True,
    batch_size=16,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MSRVTTMCDataset',
        ann_file='msrvtt_mc/msrvtt_mc_test.json',
        data_root='data/demo',
        data_prefix=dict(video='videos', objects='objects'),
        pipeline={{_base_.demo_test_pipeline}},
        test_mode=True))
test_cfg = dict(_delete_=True, type='TestLoop')
test_evaluator = dict(type='MCAccuracy')
