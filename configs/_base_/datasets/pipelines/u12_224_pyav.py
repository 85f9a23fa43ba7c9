# The paper's input (u12_224.py) decoded with PyAV instead of decord.
_base_ = ['./u12_224.py']

train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='UniformSample', clip_len={{_base_.num_frames}}, test_mode=False),
    dict(type='PyAVDecode', mode='accurate'),
    dict(type='LoadObjectDetections', max_objects={{_base_.max_objects}}),
    dict(type='Resize', scale=(-1, {{_base_.img_size}})),
    dict(type='CenterCrop', crop_size={{_base_.img_size}}),
    dict(type='ProjectObjectBoxes'),
    {{_base_.text_transform}},
    dict(type='PackVideoTextInputs'),
]
val_pipeline = [
    dict(type='PyAVInit'),
    dict(type='UniformSample', clip_len={{_base_.num_frames}}, test_mode=True),
    dict(type='PyAVDecode', mode='accurate'),
    dict(type='LoadObjectDetections', max_objects={{_base_.max_objects}}),
    dict(type='Resize', scale=(-1, {{_base_.img_size}})),
    dict(type='CenterCrop', crop_size={{_base_.img_size}}),
    dict(type='ProjectObjectBoxes'),
    {{_base_.text_transform}},
    dict(type='PackVideoTextInputs'),
]
test_pipeline = val_pipeline
