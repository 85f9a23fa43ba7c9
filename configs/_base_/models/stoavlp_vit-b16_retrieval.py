# Retrieval: VTC + VTM fine-tuning; ranking by similarity with the top 32
# candidates re-ranked by the VTM head (the official protocol).
_base_ = ['./stoavlp_vit-b16.py']

model = dict(
    type='STOAVLPRetriever',
    video_encoder=dict(backbone=dict(pretrained=None)),
    text_encoder=dict(pretrained=None),
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMHead', width=512),
    rerank_topk=32)
