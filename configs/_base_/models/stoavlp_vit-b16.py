# STOA-VLP on CLIP ViT-B/16 (paper 4.2): 12-layer video and text encoders
# from CLIP, 2-layer trajectory (N=20) and action (M=4) encoders from the top
# two ViT blocks fed by blocks 10 and 11, a 6-layer fusion encoder from the
# first six text blocks, and the six objectives of eq. 10.
# Download OpenAI's ViT-B-16.pt to checkpoints/clip/ (or point `clip` at a
# transformers CLIPModel directory); tools/model_converters/ has converters.
clip = 'checkpoints/clip/ViT-B-16.pt'

model = dict(
    type='STOAVLPPretrainer',
    data_preprocessor=dict(type='VideoTextDataPreprocessor'),
    video_encoder=dict(
        type='CLIPVideoEncoder',
        image_size=224,
        patch_size=16,
        width=768,
        layers=12,
        heads=12,
        embed_dim=512,
        feature_layers=(10, 11),
        pretrained=clip),
    text_encoder=dict(
        type='CLIPTextEncoder',
        width=512,
        layers=12,
        heads=8,
        embed_dim=512,
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
    fusion_encoder=dict(
        type='FusionEncoder', width=512, layers=6, heads=8,
        max_positions=128),
    object_layer=10,
    action_layer=11,
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMHead', width=512),
    lm_head=dict(type='TiedLMHead', width=512),
    ota_loss=dict(type='OTALoss'),
    asp_loss=dict(type='ASPLoss'))
