# Table 3, MSR-VTT multiple choice (paper: accuracy 98.5): retrieval fine-tuning on the 9k split, evaluation on the 2990 MC questions.
_base_ = [
    '../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../_base_/datasets/msrvtt_retrieval_9k.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

# the retrieval model, predicting by scoring each video's options
model = dict(type='STOAVLPMultipleChoice')
train_dataloader = dict(batch_size=8)
# Train as retrieval on the 9k split (no validation), test on MC.
val_dataloader = None
val_cfg = None
val_evaluator = None
# the retrieval test loader (same videos, pipeline and loader settings) on
# the MC questions, run by the standard test loop
test_dataloader = dict(
    dataset=dict(type='MSRVTTMCDataset',
                 ann_file='msrvtt_mc/msrvtt_mc_test.json'))
test_cfg = dict(_delete_=True, type='TestLoop')
test_evaluator = dict(type='MCAccuracy')
