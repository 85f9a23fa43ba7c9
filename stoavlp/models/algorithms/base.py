"""What every STOA-VLP task model shares: the five encoders.

Letters: B batch, T frames, K boxes per frame, N trajectories, M actions,
L text length, D joint width; ``Lv = T + 1 + N + M`` video-side tokens.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_dist_info
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from ..necks.fusion_encoder import ACTION, TEXT, TRAJECTORY, VIDEO
from ..utils.distributed import gather_no_grad, local_rows


class VideoTextModel(BaseModel):
    """Video, text, trajectory, action and fusion encoders wired together.

    Task models subclass this and add heads; ``forward`` only dispatches.
    ``trajectory_encoder`` / ``action_encoder`` / ``fusion_encoder`` may be
    None (ablation configs drop them).

    Args:
        video_encoder (dict): e.g. ``CLIPVideoEncoder``.
        text_encoder (dict): e.g. ``CLIPTextEncoder``.
        fusion_encoder (dict, optional): ``FusionEncoder``.
        trajectory_encoder (dict, optional): ``TrajectoryEncoder``.
        action_encoder (dict, optional): ``ActionEncoder``.
        object_layer (int): Video block whose patch tokens feed the
            trajectory encoder (paper: 10).
        action_layer (int): Video block feeding the action encoder
            (paper: 11).
        data_preprocessor (dict, optional): Defaults to
            ``VideoTextDataPreprocessor``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 video_encoder: dict,
                 text_encoder: dict,
                 fusion_encoder: Optional[dict] = None,
                 trajectory_encoder: Optional[dict] = None,
                 action_encoder: Optional[dict] = None,
                 object_layer: int = 10,
                 action_layer: int = 11,
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
        self.trajectory_encoder = MODELS.build(trajectory_encoder) \
            if trajectory_encoder else None
        self.action_encoder = MODELS.build(action_encoder) \
            if action_encoder else None
        self.object_layer, self.action_layer = object_layer, action_layer
        layers = tuple(self.video_encoder.feature_layers)
        for name, layer, used in (('object_layer', object_layer,
                                   self.trajectory_encoder),
                                  ('action_layer', action_layer,
                                   self.action_encoder)):
            if used is not None and layer not in layers:
                raise ValueError(f'{name}={layer} is not among the video '
                                 f'encoder\'s feature_layers {layers}')

    def init_weights(self) -> None:
        """Load CLIP into the backbones, then initialise the trajectory and
        action encoders from the top video blocks and the fusion encoder
        from the first text blocks (paper 4.2)."""
        super().init_weights()
        for neck in (self.trajectory_encoder, self.action_encoder):
            if neck is not None:
                neck.init_from_backbone(self.video_encoder)
        if self.fusion_encoder is not None:
            self.fusion_encoder.init_from_text_encoder(self.text_encoder)

    # -- encoders ----------------------------------------------------------
    def encode_video(self, video: torch.Tensor,
                     data_samples) -> Dict[str, torch.Tensor]:
        """Video features for ``video (B, T, 3, H, W)``.

        Returns:
            dict: ``frame_features (B, T, D)``, ``video_feature (B, D)`` and,
            with the necks, ``trajectory_tokens (B, N, D)``,
            ``trajectory_mask (B, N)``, ``object_tokens (B, T, K, C)``,
            ``object_mask (B, T, K)``, ``action_tokens (B, M, D)``.
        """
        out = self.video_encoder(video)
        feats = dict(frame_features=out['frame_features'],
                     video_feature=out['video_feature'])
        if self.trajectory_encoder is not None:
            feats.update(self.trajectory_encoder(
                out['layer_tokens'][self.object_layer][:, :, 1:],
                stack_field(data_samples, 'obj_boxes'),
                stack_field(data_samples, 'obj_labels'),
                stack_field(data_samples, 'obj_mask'),
                image_size=tuple(video.shape[-2:])))
        if self.action_encoder is not None:
            feats.update(self.action_encoder(
                out['layer_tokens'][self.action_layer],
                feats.get('object_tokens'), feats.get('object_mask')))
        return feats

    def encode_text(self, token_ids: torch.Tensor,
                    attention_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``token_features (B, L, D)``, ``text_feature (B, D)``,
        ``eot_index (B,)`` of ``token_ids (B, L)``."""
        return self.text_encoder(token_ids, attention_mask)

    def video_sequence(self, feats: Dict[str, torch.Tensor]
                       ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The fusion input's video side ``[v_1..v_T, v_CLS, o, x]``.

        Returns:
            tuple: ``tokens (B, Lv, D)``, ``types (Lv,)``, ``keep (B, Lv)``.
        """
        frames = feats['frame_features']
        b, t = frames.shape[:2]
        parts = [frames, feats['video_feature'][:, None]]
        keep = [frames.new_ones(b, t + 1, dtype=torch.bool)]
        types = [VIDEO] * (t + 1)
        if 'trajectory_tokens' in feats:
            parts.append(feats['trajectory_tokens'])
            keep.append(feats['trajectory_mask'].bool())
            types += [TRAJECTORY] * feats['trajectory_tokens'].shape[1]
        if 'action_tokens' in feats:
            parts.append(feats['action_tokens'])
            keep.append(frames.new_ones(feats['action_tokens'].shape[:2],
                                        dtype=torch.bool))
            types += [ACTION] * feats['action_tokens'].shape[1]
        return (torch.cat(parts, 1), torch.tensor(types,
                                                  device=frames.device),
                torch.cat(keep, 1))

    def fuse(self,
             video_seq: Tuple[torch.Tensor, torch.Tensor, torch.Tensor],
             text_tokens: torch.Tensor,
             text_keep: torch.Tensor,
             mode: str = 'bidirectional',
             text_prefix: Optional[torch.Tensor] = None
             ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Fuse the video side with text tokens ``(B, L, D)``.

        Args:
            video_seq (tuple): From :meth:`video_sequence`.
            text_tokens (torch.Tensor): ``(B, L, D)``.
            text_keep (torch.Tensor): ``(B, L)`` valid text tokens.
            mode (str): ``'bidirectional'`` or ``'prefix_lm'``.
            text_prefix (torch.Tensor, optional): ``(B,)`` text tokens in
                the prefix (prefix_lm).

        Returns:
            tuple: fused ``video (B, Lv, D)`` and ``text (B, L, D)``.
        """
        tokens, types, keep = video_seq
        lv = tokens.shape[1]
        text_types = types.new_full((text_tokens.shape[1], ), TEXT)
        hidden = self.fusion_encoder(
            torch.cat([tokens, text_tokens.to(tokens.dtype)], 1),
            torch.cat([types, text_types]),
            torch.cat([keep, text_keep.bool()], 1),
            mode=mode,
            prefix_len=None if text_prefix is None else lv + text_prefix)
        return hidden[:, :lv], hidden[:, lv:]

    # -- objectives shared by the tasks ------------------------------------
    def _generator(self) -> torch.Generator:
        """A generator seeded by the iteration: every rank (and a resumed
        run) draws the same numbers for the global batch."""
        step = MessageHub.get_current_instance().get_info('iter', 0)
        return torch.Generator().manual_seed(
            (torch.initial_seed() + 1_000_003 * int(step)) % 2**63)

    @staticmethod
    def _local_uniform(generator: torch.Generator, batch: int,
                       *shape: int) -> torch.Tensor:
        """This rank's rows of a global ``(B_all, *shape)`` uniform draw."""
        start, stop = local_rows(batch)
        draw = torch.rand((batch * get_dist_info()[1], *shape),
                          generator=generator)
        return draw[start:stop]

    def prefix_lm_loss(self, video_seq: tuple, text: dict,
                       token_ids: torch.Tensor, attention_mask: torch.Tensor,
                       split: torch.Tensor) -> torch.Tensor:
        """Prefix-LM loss in one fusion pass: text positions ``< split``
        join the video side in the bidirectional prefix, the rest is causal
        and predicted (PLM; captioning is ``split = 1``); the LM head's
        read-out decides the attention (``lm_head.readout``).

        Args:
            video_seq (tuple): From :meth:`video_sequence`.
            text (dict): From :meth:`encode_text`.
            token_ids (torch.Tensor): ``(B, L)``.
            attention_mask (torch.Tensor): ``(B, L)``.
            split (torch.Tensor): ``(B,)`` in ``[1, eot_index]``.
        """
        eot = text['eot_index']
        fused_text = self.lm_head.readout.fuse(
            self, video_seq, text['token_features'], attention_mask, split)
        predicting = self.lm_head.plm_loss.target_mask(split, eot,
                                                       token_ids.shape[1])
        return self.lm_head.loss_plm(fused_text, token_ids, predicting,
                                     self.text_encoder.token_embedding.weight)

    def vtm_loss(self, video: dict, text: dict, video_seq: tuple,
                 attention_mask: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        """VTM on B positives, B hard-negative videos, B hard-negative
        texts, drawn from the global similarity matrix (needs ``vtm_head``
        and, for the similarity scale, uses ``vtc_loss`` when present).
        Negatives are gathered without gradient, as the official code
        does."""
        tokens, types, keep = video_seq
        b = tokens.shape[0]
        with torch.no_grad():
            all_video = gather_no_grad(F.normalize(video['video_feature'],
                                                   dim=-1))
            all_text = gather_no_grad(F.normalize(text['text_feature'],
                                                  dim=-1))
            vtc = getattr(self, 'vtc_loss', None)
            scale = vtc.scale() if vtc is not None else 1 / 0.07
            neg_video, neg_text = self.vtm_head.loss_module.\
                sample_hard_negatives(scale * all_text @ all_video.t(),
                                      generator)
            start, stop = local_rows(b)
            neg_video, neg_text = neg_video[start:stop], neg_text[start:stop]
            all_tokens, all_keep = gather_no_grad(tokens), gather_no_grad(keep)
            all_text_tokens = gather_no_grad(text['token_features'])
            all_text_keep = gather_no_grad(attention_mask)
            all_eot = gather_no_grad(text['eot_index'])
        pair_video = (torch.cat([tokens, all_tokens[neg_video], tokens]), types,
                      torch.cat([keep, all_keep[neg_video], keep]))
        pair_text = torch.cat([text['token_features'],
                               text['token_features'],
                               all_text_tokens[neg_text]])
        pair_keep = torch.cat([attention_mask, attention_mask,
                               all_text_keep[neg_text]])
        pair_eot = torch.cat([text['eot_index'], text['eot_index'],
                              all_eot[neg_text]])
        fused_video, fused_text = self.fuse(pair_video, pair_text, pair_keep)
        v_cls = video['frame_features'].shape[1]  # position of v_CLS
        labels = torch.cat([torch.ones(b), torch.zeros(2 * b)]).long().to(
            tokens.device)
        return self.vtm_head.loss(
            fused_video[:, v_cls],
            fused_text[torch.arange(3 * b, device=tokens.device), pair_eot],
            labels)

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
