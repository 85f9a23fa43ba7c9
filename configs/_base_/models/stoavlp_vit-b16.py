# The encoders every STOA-VLP model on CLIP ViT-B/16 shares (paper 4.2):
# 12-layer video and text encoders from CLIP, 2-layer trajectory (N=20) and
# action (M=4) encoders from the top two ViT blocks fed by blocks 10 and 11,
# a 6-layer fusion encoder from the first six text blocks. Experiment configs
# add the model `type` and the task's heads/objectives.
# Download OpenAI's ViT-B-16.pt to checkpoints/clip/ (or point `clip` at a
# transformers CLIPModel directory).
clip = 'checkpoints/clip/ViT-B-16.pt'

model = dict(
    data_preprocessor=dict(type='VideoTextDataPreprocessor'),
    video_encoder=dict(
        type='STOAVideoEncoder',
        backbone=dict(
            type='CLIPVideoEncoder',
            image_size=224,
            patch_size=16,
            width=768,
            layers=12,
            heads=12,
            embed_dim=512,
            feature_layers=(10, 11),
            pretrained=clip),
        trajectory_encoder=dict(
            type='TrajectoryEncoder',
            width=768,
            embed_dim=512,
            heads=12,
            layers=2,
            num_frames=12,
            max_objects=10,
            num_trajectories=20),
        action_encoder=dict(
            type='ActionEncoder',
            width=768,
            embed_dim=512,
            heads=12,
            layers=2,
            num_actions=4,
            num_frames=12),
        object_layer=10,
        action_layer=11),
    text_encoder=dict(
        type='CLIPTextEncoder',
        width=512,
        layers=12,
        heads=8,
        embed_dim=512,
        pretrained=clip),
    fusion_encoder=dict(
        type='FusionEncoder', width=512, layers=6, heads=8,
        max_positions=128))
