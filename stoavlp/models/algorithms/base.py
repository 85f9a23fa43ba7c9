"""What every STOA-VLP task model shares: encoding and fusion.

Letters: B batch, T frames, N trajectories, M actions, L text length,
D joint width, V vocabulary; ``Lv = T + 1 + N + M`` video-side tokens.

The objectives live in heads (``stoavlp.models.heads``), each with one
``loss(features, data_samples)``; a task model encodes the batch once
(:meth:`VideoTextModel.extract_features`) and hands it to its heads.
"""
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from ..necks.fusion_encoder import ACTION, TEXT, TRAJECTORY, VIDEO
from ..utils.features import VideoSequence, VideoTextFeatures


@MODELS.register_module()
class VideoTextModel(BaseModel):
    """The video side, the text encoder, the fusion encoder and the tied
    vocabulary read-out, wired together; ``forward`` only dispatches.

    Args:
        video_encoder (dict): ``STOAVideoEncoder`` (CLIP frames, and the
            trajectory and action encoders unless an ablation drops them).
        text_encoder (dict): ``CLIPTextEncoder``.
        fusion_encoder (dict, optional): ``FusionEncoder``.
        lm_head (dict, optional): ``TiedLMHead``, the output layer every
            token-predicting head shares (MLM, PLM, captioning).
        data_preprocessor (dict, optional): Defaults to
            ``VideoTextDataPreprocessor``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 video_encoder: dict,
                 text_encoder: dict,
                 fusion_encoder: Optional[dict] = None,
                 lm_head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor
            or dict(type='VideoTextDataPreprocessor'),
            init_cfg=init_cfg)
        self.video_encoder = MODELS.build(video_encoder)
        self.text_encoder = MODELS.build(text_encoder)
        self.fusion_encoder = MODELS.build(fusion_encoder) \
            if fusion_encoder else None
        self.lm_head = MODELS.build(lm_head) if lm_head else None

    def init_weights(self) -> None:
        """Load CLIP into the encoders (the video side then initialises its
        necks from the top video blocks), then the fusion encoder from the
        first text blocks (paper 4.2)."""
        super().init_weights()
        if self.fusion_encoder is not None:
            self.fusion_encoder.init_from_text_encoder(self.text_encoder)

    def _require(self, *names: str) -> None:
        """Fail at build time when a head needs a part the config drops."""
        for name in names:
            if getattr(self, name) is None:
                raise ValueError(f'{type(self).__name__} needs a {name}')

    # -- encoders ----------------------------------------------------------
    def encode_video(self, video: torch.Tensor,
                     data_samples) -> Dict[str, torch.Tensor]:
        """``STOAVideoEncoder`` features of ``video (B, T, 3, H, W)`` with
        the boxes of ``data_samples``."""
        return self.video_encoder(
            video, *(stack_field(data_samples, k)
                     for k in ('obj_boxes', 'obj_labels', 'obj_mask')))

    def encode_text(self, token_ids: torch.Tensor,
                    attention_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``token_features (B, L, D)``, ``text_feature (B, D)``,
        ``eot_index (B,)`` of ``token_ids (B, L)``."""
        return self.text_encoder(token_ids, attention_mask)

    def video_sequence(self, video: Dict[str, torch.Tensor]
                       ) -> VideoSequence:
        """The fusion input's video side ``[v_1..v_T, v_CLS, o, x]`` of
        :meth:`encode_video` outputs."""
        frames = video['frame_features']
        b, t = frames.shape[:2]
        parts = [frames, video['video_feature'][:, None]]
        mask = [frames.new_ones(b, t + 1, dtype=torch.bool)]
        types = [VIDEO] * (t + 1)
        if 'trajectory_tokens' in video:
            parts.append(video['trajectory_tokens'])
            mask.append(video['trajectory_mask'].bool())
            types += [TRAJECTORY] * video['trajectory_tokens'].shape[1]
        if 'action_tokens' in video:
            parts.append(video['action_tokens'])
            mask.append(frames.new_ones(video['action_tokens'].shape[:2],
                                        dtype=torch.bool))
            types += [ACTION] * video['action_tokens'].shape[1]
        return VideoSequence(torch.cat(parts, 1),
                             torch.tensor(types, device=frames.device),
                             torch.cat(mask, 1), cls_index=t)

    def fuse(self, video_seq: VideoSequence, text_tokens: torch.Tensor,
             attention_mask: torch.Tensor, mode: str = 'bidirectional',
             text_prefix: Optional[torch.Tensor] = None):
        """Fuse the video side with text tokens ``(B, L, D)``.

        Args:
            video_seq (VideoSequence): From :meth:`video_sequence`.
            text_tokens (torch.Tensor): ``(B, L, D)``.
            attention_mask (torch.Tensor): ``(B, L)`` valid text tokens.
            mode (str): ``'bidirectional'`` or ``'prefix_lm'``.
            text_prefix (torch.Tensor, optional): ``(B,)`` text tokens in
                the prefix (prefix_lm).

        Returns:
            tuple: fused ``video (B, Lv, D)`` and ``text (B, L, D)``.
        """
        lv = video_seq.tokens.shape[1]
        text_types = video_seq.types.new_full((text_tokens.shape[1], ), TEXT)
        hidden = self.fusion_encoder(
            torch.cat([video_seq.tokens,
                       text_tokens.to(video_seq.tokens.dtype)], 1),
            torch.cat([video_seq.types, text_types]),
            torch.cat([video_seq.mask, attention_mask.bool()], 1),
            mode=mode,
            prefix_len=None if text_prefix is None else lv + text_prefix)
        return hidden[:, :lv], hidden[:, lv:]

    def token_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits ``(..., V)`` of fused text ``hidden (..., D)``
        through the LM head tied to the token embedding."""
        return self.lm_head(hidden, self.text_encoder.token_embedding.weight)

    def extract_features(self, inputs: torch.Tensor, data_samples,
                         logit_scale: Optional[torch.Tensor] = None
                         ) -> VideoTextFeatures:
        """Encode a batch of videos and their (one each) texts for the
        heads; ``logit_scale`` is the model's learned similarity scale
        (VTC's) when it has one."""
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        video = self.encode_video(inputs, data_samples)
        return VideoTextFeatures(
            encoders=self, video=video,
            text=self.encode_text(token_ids, attention_mask),
            token_ids=token_ids, attention_mask=attention_mask,
            video_seq=self.video_sequence(video)
            if self.fusion_encoder is not None else None,
            generator=self._generator(), logit_scale=logit_scale)

    def _generator(self) -> torch.Generator:
        """A generator seeded by the iteration: every rank (and a resumed
        run) draws the same numbers for the global batch."""
        step = MessageHub.get_current_instance().get_info('iter', 0)
        return torch.Generator().manual_seed(
            (torch.initial_seed() + 1_000_003 * int(step)) % 2**63)

    # -- MMEngine plumbing -------------------------------------------------
    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor'):
        """Dispatch to :meth:`loss`, :meth:`predict` or :meth:`_forward`."""
        if mode == 'loss':
            losses = self.loss(inputs, data_samples)
            self._warn_nonfinite(losses, data_samples)
            return losses
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def parse_losses(self, losses: Dict[str, torch.Tensor]):
        """MMEngine's ``parse_losses``; under DDP the *logged* values are
        averaged over ranks (the global batch's losses, with the
        global-mean normalisation of the losses), not rank 0's alone."""
        loss, log_vars = super().parse_losses(losses)
        world = get_dist_info()[1]
        if world > 1:
            for key, value in log_vars.items():
                value = value.detach().clone()
                all_reduce(value)
                log_vars[key] = value / world
        return loss, log_vars

    @staticmethod
    def _warn_nonfinite(losses: Dict[str, torch.Tensor],
                        data_samples) -> None:
        """Name the samples of a batch whose loss is NaN or inf (the
        optimizer wrapper then skips the step or stops the run)."""
        bad = [k for k, v in losses.items()
               if isinstance(v, torch.Tensor) and not torch.isfinite(v).all()]
        if bad:
            ids = [s.metainfo.get('video_id', s.metainfo.get('filename'))
                   for s in data_samples or []]
            MMLogger.get_current_instance().warning(
                f'Non-finite {", ".join(bad)} in a batch of samples {ids}')

    def _forward(self, inputs: torch.Tensor, data_samples=None) -> Dict:
        """Encoder features of a batch (``mode='tensor'``)."""
        feats = self.encode_video(inputs, data_samples)
        token_ids = stack_field(data_samples, 'token_ids')
        if token_ids is not None:
            feats.update(self.encode_text(
                token_ids, stack_field(data_samples, 'attention_mask')))
        return feats
