"""Video captioning: prefix-LM fine-tuning and cached decoding.

Letters: B batch, N live sequences (B x beams), Lv video-side tokens,
L text length, D joint width, V vocabulary.
"""
from typing import Dict, List, Optional

import torch

from stoavlp.registry import MODELS, TOKENIZERS
from ..data_preprocessors import stack_field
from ..necks.fusion_encoder import TEXT
from ..utils.generation import check_decode_cfg, decode
from .base import VideoTextModel


class CachedCaptionSteps:
    """The decoding step protocol over the text and fusion encoders, with
    key/value caches: each step encodes only the new token.

    The prefix is the video side plus the start token (bidirectional, as in
    fine-tuning); later tokens are causal, so cached keys/values never change.

    Args:
        model (STOAVLPCaptioner): Supplies the encoders and the LM head.
        video_seq (tuple): ``(tokens (B, Lv, D), types (Lv,), keep (B, Lv))``.
    """

    def __init__(self, model: 'STOAVLPCaptioner', video_seq: tuple) -> None:
        self.model = model
        self.video_seq = video_seq

    def init_state(self) -> Dict:
        n_text = len(self.model.text_encoder.transformer.resblocks)
        n_fusion = len(self.model.fusion_encoder.transformer.resblocks)
        return dict(text=[{} for _ in range(n_text)],
                    fusion=[{} for _ in range(n_fusion)],
                    video=self.video_seq, keep=self.video_seq[2], position=0)

    def step(self, state: Dict, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(N, V)`` after ``tokens (N,)``."""
        model, position = self.model, state['position']
        feature = model.text_encoder.forward_step(tokens[:, None], position,
                                                  state['text'])  # (N, 1, D)
        keep = torch.cat([state['keep'], state['keep'].new_ones(
            len(tokens), 1)], 1)
        if position == 0:  # the prefix: video side + start token, one pass
            video_tokens, video_types, _ = state['video']
            hidden = model.fusion_encoder(
                torch.cat([video_tokens, feature.to(video_tokens.dtype)], 1),
                torch.cat([video_types, video_types.new_tensor([TEXT])]),
                keep, caches=state['fusion'])[:, -1:]
        else:
            hidden = model.fusion_encoder.forward_step(
                feature, TEXT, keep.shape[1] - 1, keep, state['fusion'])
        state['keep'], state['position'] = keep, position + 1
        return model.lm_head(hidden[:, 0],
                             model.text_encoder.token_embedding.weight)

    @staticmethod
    def reorder(state: Dict, index: torch.Tensor) -> Dict:
        """Keep / duplicate the sequences ``index (N',)`` of every cache."""
        for cache in state['text'] + state['fusion']:
            for key in cache:
                cache[key] = cache[key].index_select(0, index)
        state['keep'] = state['keep'].index_select(0, index)
        tokens, types, keep = state['video']
        state['video'] = (tokens.index_select(0, index), types,
                          keep.index_select(0, index))
        return state


class RecomputedCaptionSteps(CachedCaptionSteps):
    """Reference without caches: every step re-encodes the whole text so
    far and re-fuses the whole sequence through the LM head's read-out
    (what decoding without a cache costs). Same logits as the read-out's
    cached steps."""

    def init_state(self) -> Dict:
        return dict(tokens=None, video=self.video_seq, text=[], fusion=[],
                    keep=self.video_seq[2])

    def step(self, state: Dict, tokens: torch.Tensor) -> torch.Tensor:
        model = self.model
        ids = tokens[:, None] if state['tokens'] is None else torch.cat(
            [state['tokens'], tokens[:, None]], 1)
        state['tokens'] = ids
        mask = torch.ones_like(ids)
        text = model.encode_text(ids, mask)['token_features']
        fused = model.lm_head.readout.fuse(model, state['video'], text, mask,
                                           torch.ones_like(ids[:, 0]))
        return model.lm_head(fused[:, -1],
                             model.text_encoder.token_embedding.weight)

    @staticmethod
    def reorder(state: Dict, index: torch.Tensor) -> Dict:
        if state['tokens'] is not None:
            state['tokens'] = state['tokens'].index_select(0, index)
        return CachedCaptionSteps.reorder(state, index)


@MODELS.register_module()
class STOAVLPCaptioner(VideoTextModel):
    """Captioning through the fusion encoder's prefix LM.

    Fine-tuning: the video side and the start token form the prefix, the
    caption is predicted causally (PLM with the split at 1). Inference:
    greedy or beam search with key/value caches in the text and fusion
    encoders.

    Args:
        lm_head (dict): ``TiedLMHead`` (its PLM loss is the caption loss;
            MLM unused).
        tokenizer (dict, optional): Decodes predictions. Defaults to
            ``dict(type='CLIPTokenizer')``.
        decode_cfg (dict, optional): :func:`~stoavlp.models.utils.generation
            .decode` options: ``num_beams`` (1 = greedy), ``max_length``
            (default 31 tokens, as the official 32-token captions),
            ``min_length``, ``length_penalty``, ``repetition_penalty``.
        **kwargs: The encoders, see :class:`VideoTextModel`.
    """

    def __init__(self, lm_head: dict, tokenizer: Optional[dict] = None,
                 decode_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.fusion_encoder is None:
            raise ValueError('captioning needs a fusion_encoder')
        self.lm_head = MODELS.build(dict(lm_head, mlm_loss=None))
        self.tokenizer = TOKENIZERS.build(tokenizer
                                          or dict(type='CLIPTokenizer'))
        self.decode_cfg = check_decode_cfg(
            dict(dict(num_beams=1, max_length=31, min_length=1),
                 **(decode_cfg or {})))

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        video = self.encode_video(inputs, data_samples)
        text = self.encode_text(token_ids, attention_mask)
        split = torch.ones_like(text['eot_index'])
        return dict(loss_caption=self.prefix_lm_loss(
            self.video_sequence(video), text, token_ids, attention_mask,
            split))

    def generate(self, inputs: torch.Tensor, data_samples: List,
                 cached: bool = True, **decode_cfg) -> torch.Tensor:
        """Generated token ids ``(B, <= max_length)`` (end token and
        padding included)."""
        video_seq = self.video_sequence(self.encode_video(inputs,
                                                          data_samples))
        steps = self.lm_head.readout.caption_steps(self, video_seq) \
            if cached else RecomputedCaptionSteps(self, video_seq)
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
