"""Open-ended video question answering.

Letters: B batch, L question length, D joint width.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from .base import VideoTextModel


@MODELS.register_module()
class STOAVLPQuestionAnswerer(VideoTextModel):
    """The fusion encoder reads ``[video side, question, [ANSWER]]``
    bidirectionally; the head reads the [ANSWER] slot (a learned token
    after the question, as the official release).

    Args:
        qa_head (dict): ``QAClassifierHead`` (answer vocabulary) or
            ``QAFirstTokenHead`` (official first-BPE-token mode).
        **kwargs: The encoders, see :class:`VideoTextModel`.
    """

    def __init__(self, qa_head: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.fusion_encoder is None:
            raise ValueError('QA needs a fusion_encoder')
        self.qa_head = MODELS.build(qa_head)
        width = self.fusion_encoder.positional_embedding.shape[1]
        self.answer_slot = nn.Parameter(torch.randn(width) * 0.02)

    def answer_slot_features(self, inputs: torch.Tensor,
                             data_samples: List) -> torch.Tensor:
        """``(B, D)`` fused [ANSWER] slot of each (video, question)."""
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        video_seq = self.video_sequence(self.encode_video(inputs,
                                                          data_samples))
        question = self.encode_text(token_ids, attention_mask)
        b = token_ids.shape[0]
        slot = self.answer_slot.to(question['token_features'].dtype)
        text = torch.cat([question['token_features'],
                          slot.expand(b, 1, -1)], 1)  # (B, L + 1, D)
        keep = torch.cat([attention_mask.bool(),
                          attention_mask.new_ones(b, 1, dtype=torch.bool)],
                         1)
        _, fused_text = self.fuse(video_seq, text, keep)
        return fused_text[:, -1]

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        slot = self.answer_slot_features(inputs, data_samples)
        return dict(loss_qa=self.qa_head.loss(
            slot, data_samples, self.text_encoder.token_embedding.weight))

    def predict(self, inputs: torch.Tensor, data_samples: List,
                num_scores: int = 5) -> List:
        """Sets ``pred_answer`` (str) and ``answer_scores`` (the
        ``num_scores`` most probable answers, ``{answer: probability}``,
        best first; the head's label space) on every data sample."""
        slot = self.answer_slot_features(inputs, data_samples)
        probs = self.qa_head.logits(
            slot, self.text_encoder.token_embedding.weight).float().softmax(-1)
        top = probs.topk(min(num_scores, probs.shape[-1]), dim=-1)
        for sample, values, index in zip(data_samples, top.values.tolist(),
                                         top.indices.tolist()):
            names = self.qa_head.label_names(index)
            sample.set_field(names[0], 'pred_answer', field_type='metainfo')
            sample.set_field(dict(zip(names, values)), 'answer_scores',
                             field_type='metainfo')
        return data_samples
