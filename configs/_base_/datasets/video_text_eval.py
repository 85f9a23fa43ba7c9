# video_text_loaders.py evaluated with MMEngine's standard loops (one
# predict step per batch, then the metric): the base of the captioning and
# QA datasets. The task config names the metric (val_evaluator).
_base_ = ['./video_text_loaders.py']

val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
