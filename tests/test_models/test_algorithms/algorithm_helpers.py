"""Helpers of the task-model tests: tiny models, independent references."""
import copy

import torch

from stoavlp.models.necks.fusion_encoder import TEXT
from stoavlp.registry import MODELS

OBJECTIVES = ('type', 'vtc_loss', 'vtm_head', 'lm_head', 'mlm_head',
              'plm_head', 'ota_loss', 'asp_loss')


def encoders(tiny_cfg):
    """The tiny config without the model type and the objectives."""
    cfg = copy.deepcopy(tiny_cfg)
    for key in OBJECTIVES:
        cfg.pop(key, None)
    return cfg


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def reference_match_prob(model, feats, video: int, text: int) -> float:
    """VTM ``P(match)`` of one (video, text) pair of ``RetrievalFeatures``,
    fused by calling the fusion encoder and the head's forward directly
    (not the model's ``fuse``/``match_probability``)."""
    lv = feats.video_tokens.shape[1]
    length = feats.text_tokens.shape[1]
    tokens = torch.cat([feats.video_tokens[video], feats.text_tokens[text]])
    types = torch.cat([feats.video_types,
                       torch.full((length, ), TEXT, dtype=torch.long)])
    mask = torch.cat([feats.video_mask[video], feats.attention_mask[text]])
    hidden = model.fusion_encoder(tokens[None], types, mask[None])[0]
    eot = lv + int(feats.eot_index[text])
    logits = model.vtm_head(hidden[None, feats.cls_index], hidden[None, eot])
    return float(logits.softmax(-1)[0, 1])
