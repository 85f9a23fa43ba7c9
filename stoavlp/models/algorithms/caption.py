"""Video captioning: prefix-LM fine-tuning and cached decoding.

Letters: B batch, Lv video-side tokens, L text length, D joint width,
V vocabulary.
"""
from typing import Dict, List, Optional

import torch

from stoavlp.registry import MODELS, TOKENIZERS
from ..utils.generation import check_decode_cfg, decode
from .base import VideoTextModel


@MODELS.register_module()
class STOAVLPCaptioner(VideoTextModel):
    """Captioning through the fusion encoder's prefix LM.

    Fine-tuning: the video side and the start token form the prefix, the
    caption is predicted causally (PLM with the split at 1). Inference:
    greedy or beam search with key/value caches in the text and fusion
    encoders.

    Args:
        caption_head (dict): ``CaptionHead`` (the caption loss and the
            read-out's cached decoding steps).
        tokenizer (dict, optional): Decodes predictions. Defaults to
            ``dict(type='CLIPTokenizer')``.
        decode_cfg (dict, optional): :func:`~stoavlp.models.utils.generation
            .decode` options: ``num_beams`` (1 = greedy), ``max_length``
            (default 31 tokens, as the official 32-token captions),
            ``min_length``, ``length_penalty``, ``repetition_penalty``.
        **kwargs: The encoders and the tied ``lm_head``, see
            :class:`VideoTextModel`.
    """

    def __init__(self, caption_head: dict, tokenizer: Optional[dict] = None,
                 decode_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._require('fusion_encoder', 'lm_head')
        self.caption_head = MODELS.build(caption_head)
        self.tokenizer = TOKENIZERS.build(tokenizer
                                          or dict(type='CLIPTokenizer'))
        self.decode_cfg = check_decode_cfg(
            dict(dict(num_beams=1, max_length=31, min_length=1),
                 **(decode_cfg or {})))

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        """``loss_caption`` of a batch of (video, caption) samples."""
        features = self.extract_features(inputs, data_samples)
        return dict(loss_caption=self.caption_head.loss(features,
                                                        data_samples))

    def generate(self, inputs: torch.Tensor, data_samples: List,
                 steps=None, **decode_cfg) -> torch.Tensor:
        """Generated token ids ``(B, <= max_length)`` (end token and
        padding included).

        Args:
            steps (Callable, optional): ``steps(model, video_seq)`` making
                the decoding step protocol; defaults to the caption head's
                cached steps (tests pass an uncached reference).
            **decode_cfg: Overrides of the model's decoding options.
        """
        video_seq = self.video_sequence(self.encode_video(inputs,
                                                          data_samples))
        steps = (steps or self.caption_head.caption_steps)(self, video_seq)
        cfg = check_decode_cfg(dict(self.decode_cfg, **decode_cfg))
        tokens, _ = decode(steps, steps.init_state(),
                           batch_size=inputs.shape[0],
                           start_token=self.tokenizer.sot_token_id,
                           end_token=self.tokenizer.eot_token_id,
                           device=inputs.device, **cfg)
        return tokens

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: List,
                **decode_cfg) -> List:
        """Sets ``pred_caption`` (str) on every data sample; ``decode_cfg``
        overrides the model's decoding options for this call (checked)."""
        tokens = self.generate(inputs, data_samples, **decode_cfg)
        for sample, ids in zip(data_samples, tokens.tolist()):
            sample.set_field(self.tokenizer.decode(ids).strip(),
                             'pred_caption', field_type='metainfo')
        return data_samples
