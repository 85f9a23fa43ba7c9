# u12_224.py with 64 text tokens: DiDeMo's paragraphs (official max_words).
num_frames = 12
img_size = 224
max_objects = 10
text_length = 64

text_transform = dict(
    type='TokenizeText',
    tokenizer=dict(type='CLIPTokenizer', max_length=text_length),
    pos_tagger=dict(type='SpacyPOSTagger'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=num_frames, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='LoadObjectDetections', max_objects=max_objects),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='ProjectObjectBoxes'),
    text_transform,
    dict(type='PackVideoTextInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=num_frames, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='LoadObjectDetections', max_objects=max_objects),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='ProjectObjectBoxes'),
    text_transform,
    dict(type='PackVideoTextInputs'),
]
test_pipeline = val_pipeline
