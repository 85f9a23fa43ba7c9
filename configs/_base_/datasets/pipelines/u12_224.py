# The paper's input: 12 uniformly sampled frames, resized and center-cropped
# to 224, K=10 boxes per frame, CLIP BPE text of length 32 with noun/verb
# masks. Written once: training differs from evaluation only in
# UniformSample's test_mode (a random frame of each segment, not a fixed
# one).
# Dataset configs use these through {{_base_.train_pipeline}}; variants map
# the lists (u12_224_pyav.py, didemo_retrieval.py; docs/configs.md).
num_frames = 12
img_size = 224
max_objects = 10
text_length = 32

text_transform = dict(
    type='TokenizeText',
    tokenizer=dict(type='CLIPTokenizer', max_length=text_length),
    pos_tagger=dict(type='SpacyPOSTagger'))


def video_text_pipeline(test_mode):
    return [
        dict(type='DecordInit'),
        # clips cut from long videos (clip_start/clip_end): sample only
        # their frames; a no-op for whole videos
        dict(type='ClipRange'),
        dict(type='UniformSample', clip_len=num_frames, test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='LoadObjectDetections', max_objects=max_objects),
        dict(type='Resize', scale=(-1, img_size)),
        dict(type='CenterCrop', crop_size=img_size),
        dict(type='ProjectObjectBoxes'),
        text_transform,
        dict(type='PackVideoTextInputs'),
    ]


train_pipeline = video_text_pipeline(test_mode=False)
val_pipeline = test_pipeline = video_text_pipeline(test_mode=True)
