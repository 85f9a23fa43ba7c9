# Captioning: the fusion encoder's prefix LM, greedy decoding of up to 31
# tokens (the official setting; beam search: decode_cfg=dict(num_beams=5)).
_base_ = ['./stoavlp_vit-b16.py']

model = dict(
    type='STOAVLPCaptioner',
    # every weight comes from the pre-trained STOA-VLP checkpoint (load_from)
    video_encoder=dict(backbone=dict(pretrained=None)),
    text_encoder=dict(pretrained=None),
    lm_head=dict(type='TiedLMHead', width=512),
    caption_head=dict(type='CaptionHead'),
    decode_cfg=dict(num_beams=1, max_length=31, min_length=1))
