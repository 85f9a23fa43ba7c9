# The STOA-VLP encoders at toy size (width 64, 112 px, 8 frames), trained
# from scratch on the embedded demo data on a CPU. Same parts as
# stoavlp_vit-b16.py, smaller numbers; experiment configs add the `type`
# and the task's heads (width 64).
demo_frames, demo_size, demo_width, demo_objects = 8, 112, 64, 10
demo_trajectories = 5

model = dict(
    data_preprocessor=dict(type='VideoTextDataPreprocessor'),
    video_encoder=dict(
        type='STOAVideoEncoder',
        backbone=dict(
            type='CLIPVideoEncoder', image_size=demo_size, patch_size=16,
            width=demo_width, layers=4, heads=4, embed_dim=demo_width,
            feature_layers=(2, 3)),
        trajectory_encoder=dict(
            type='TrajectoryEncoder', width=demo_width, embed_dim=demo_width,
            heads=4, num_frames=demo_frames, max_objects=demo_objects,
            num_trajectories=demo_trajectories),
        action_encoder=dict(
            type='ActionEncoder', width=demo_width, embed_dim=demo_width,
            heads=4, num_frames=demo_frames),
        object_layer=2,
        action_layer=3),
    text_encoder=dict(
        type='CLIPTextEncoder', width=demo_width, layers=4, heads=4,
        embed_dim=demo_width),
    fusion_encoder=dict(
        type='FusionEncoder', width=demo_width, layers=2, heads=4,
        max_positions=64))


# The demo input, written once: 8 frames, short side 112, center crop 112.
# Training differs only in UniformSample's test_mode (a random frame of
# each segment, not a fixed one); a demo run's pipeline is one of the three
# below.
def demo_pipeline(test_mode, clip_len=demo_frames):
    return [
        dict(type='DecordInit'),
        dict(type='ClipRange'),
        dict(type='UniformSample', clip_len=clip_len, test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='LoadObjectDetections', max_objects=demo_objects),
        dict(type='Resize', scale=(-1, demo_size)),
        dict(type='CenterCrop', crop_size=demo_size),
        dict(type='ProjectObjectBoxes'),
        dict(type='TokenizeText'),
        # which caption token names each trajectory: for the OTA accuracy
        # metric and stage 0's region-word alignment, never the objectives
        dict(type='MatchObjectNouns', num_trajectories=demo_trajectories),
        dict(type='PackVideoTextInputs'),
    ]


demo_train_pipeline = demo_pipeline(test_mode=False)
demo_test_pipeline = demo_pipeline(test_mode=True)
# Stage 0 (the tiny CLIP) sees 4 frames a clip: CLIP is a per-frame model,
# and half the frames halve its cost on a CPU.
demo_clip_pipeline = demo_pipeline(test_mode=False, clip_len=4)
