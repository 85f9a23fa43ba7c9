# Table 3, MSR-VTT multiple choice (paper: accuracy 98.5): retrieval fine-tuning on the 9k split, evaluation on the 2990 MC questions.
_base_ = [
    '../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../_base_/datasets/msrvtt_retrieval_9k.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=8)
# Train as retrieval on the 9k split (no validation), test on MC.
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=8,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MSRVTTMCDataset',
        ann_file='msrvtt_mc/msrvtt_mc_test.json',
        data_root='data/msrvtt',
        data_prefix=dict(video='videos', objects='objects'),
        pipeline={{_base_.test_pipeline}},
        test_mode=True))
test_cfg = dict(type='TestLoop')
test_evaluator = dict(type='MCAccuracy')
