# Activation checkpointing in the video, text and fusion encoders: their
# block activations are recomputed in the backward pass instead of kept
# (tools/analysis_tools/benchmark_memory.py measures the saving).
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

model = dict(
    video_encoder=dict(backbone=dict(with_cp=True)),
    text_encoder=dict(with_cp=True),
    fusion_encoder=dict(with_cp=True))
