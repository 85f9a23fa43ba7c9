"""STOA-VLP pre-training with its six objectives (paper 3.2, eq. 10).

Letters: B local batch, B_all global batch, L text length, D joint width.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from ..losses.set_alignment import eot_mask
from .base import VideoTextModel


@MODELS.register_module()
class STOAVLPPretrainer(VideoTextModel):
    """``L = L_VTC + L_VTM + L_MLM + L_PLM + L_OTA + L_ASP`` (eq. 10).

    Each objective is a registered part; setting it to None in the config
    drops it (Table 4 ablations): ``vtc_loss`` (eq. 3-5), ``vtm_head``
    (VTM with hard negatives), ``lm_head`` (MLM and PLM, each droppable in
    the head's config), ``ota_loss`` (eq. 6-7, needs the trajectory
    encoder), ``asp_loss`` (eq. 8-9, needs the action encoder). Loss weights
    live in each part's config.

    Random choices (MLM masks, PLM split points, VTM negatives) are drawn
    for the global batch from a generator seeded by the iteration, so they
    are the same for any number of ranks and after a resume.

    Args:
        vtc_loss, vtm_head, lm_head, ota_loss, asp_loss (dict, optional):
            The objectives.
        **kwargs: The encoders, see :class:`VideoTextModel`.
    """

    def __init__(self,
                 vtc_loss: Optional[dict] = None,
                 vtm_head: Optional[dict] = None,
                 lm_head: Optional[dict] = None,
                 ota_loss: Optional[dict] = None,
                 asp_loss: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        build = lambda cfg: MODELS.build(cfg) if cfg else None  # noqa: E731
        self.vtc_loss = build(vtc_loss)
        self.vtm_head = build(vtm_head)
        self.lm_head = build(lm_head)
        self.ota_loss = build(ota_loss)
        self.asp_loss = build(asp_loss)
        needs = [(self.ota_loss, self.trajectory_encoder, 'ota_loss',
                  'trajectory_encoder'),
                 (self.asp_loss, self.action_encoder, 'asp_loss',
                  'action_encoder'),
                 (self.vtm_head, self.fusion_encoder, 'vtm_head',
                  'fusion_encoder'),
                 (self.lm_head, self.fusion_encoder, 'lm_head',
                  'fusion_encoder')]
        for part, required, name, required_name in needs:
            if part is not None and required is None:
                raise ValueError(f'{name} needs a {required_name}')

    # -- objectives ---------------------------------------------------------
    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        """All enabled objectives of one batch (keys ``loss_*``)."""
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        video = self.encode_video(inputs, data_samples)
        text = self.encode_text(token_ids, attention_mask)
        eot = text['eot_index']
        video_seq = self.video_sequence(video) \
            if self.fusion_encoder is not None else None
        generator = self._generator()
        losses = {}
        if self.vtc_loss is not None:
            losses['loss_vtc'] = self.vtc_loss(video['video_feature'],
                                               text['text_feature'])
        if self.vtm_head is not None:
            losses['loss_vtm'] = self.vtm_loss(video, text, video_seq,
                                               attention_mask, generator)
        if self.lm_head is not None and self.lm_head.mlm_loss is not None:
            losses['loss_mlm'] = self.loss_mlm(video_seq, token_ids,
                                               attention_mask, generator)
        if self.lm_head is not None and self.lm_head.plm_loss is not None:
            eot = text['eot_index']
            split = self.lm_head.plm_loss.sample_split(
                eot, self._local_uniform(generator, len(eot)).to(eot.device))
            losses['loss_plm'] = self.prefix_lm_loss(
                video_seq, text, token_ids, attention_mask, split)
        if self.ota_loss is not None:
            losses['loss_ota'] = self.ota_loss(
                video['trajectory_tokens'], video['trajectory_mask'],
                text['token_features'],
                stack_field(data_samples, 'noun_mask'), eot)
        if self.asp_loss is not None:
            losses['loss_asp'] = self.asp_loss(
                video['action_tokens'], text['token_features'],
                stack_field(data_samples, 'verb_mask'), eot)
        return losses

    def loss_mlm(self, video_seq: tuple, token_ids: torch.Tensor,
                 attention_mask: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        """MLM: mask 15 % of the words (id 0 into the text encoder, zero
        feature into the fusion encoder), predict them bidirectionally."""
        draw = self._local_uniform(generator, *token_ids.shape).to(
            token_ids.device)
        masked = self.lm_head.mlm_loss.sample_mask(token_ids, attention_mask,
                                                   draw)
        masked_text = self.encode_text(token_ids.masked_fill(masked, 0),
                                       attention_mask)['token_features']
        masked_text = masked_text.masked_fill(masked[..., None], 0)
        _, fused_text = self.fuse(video_seq, masked_text, attention_mask)
        return self.lm_head.loss_mlm(fused_text, token_ids, masked,
                                     self.text_encoder.token_embedding.weight)

    @torch.no_grad()
    def explain(self, inputs: torch.Tensor, data_samples: List) -> List[Dict]:
        """What OTA and ASP match in a batch (for pictures and checks).

        The same encoders, candidate masks and Hungarian matching as
        :meth:`loss` (``SetAlignmentLoss.assignments``); call it in eval
        mode to see the matching without dropout. A sample with n texts is
        explained with its first.

        Args:
            inputs (torch.Tensor): ``(B, T, 3, H, W)`` preprocessed video.
            data_samples (list): Preprocessed samples.

        Returns:
            list[dict]: per sample, ``token_ids (L,)``, ``eot_index`` (int,
            the position of t_CLS, the "no noun / empty action" target),
            ``trajectory_mask (N,)`` and, with the losses, ``ota_trajectory
            (p,)`` trajectory indices with ``ota_token (p,)`` their matched
            text positions, ``asp_action (q,)`` action indices with
            ``asp_token (q,)`` theirs, ``num_actions`` (M); tensors on the
            CPU.
        """
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        noun_mask = stack_field(data_samples, 'noun_mask')
        verb_mask = stack_field(data_samples, 'verb_mask')
        if token_ids.dim() == 3:  # (B, n, L): the first text of each
            token_ids, attention_mask, noun_mask, verb_mask = (
                t[:, 0] for t in (token_ids, attention_mask, noun_mask,
                                  verb_mask))
        video = self.encode_video(inputs, data_samples)
        text = self.encode_text(token_ids, attention_mask)
        eot = text['eot_index']
        out = [dict(token_ids=token_ids[b].cpu(), eot_index=int(eot[b]))
               for b in range(len(token_ids))]
        if 'trajectory_mask' in video:
            for b, sample in enumerate(out):
                sample['trajectory_mask'] = video['trajectory_mask'][b].cpu()
        if self.ota_loss is not None:
            pairs = self.ota_loss.assignments(
                video['trajectory_tokens'], video['trajectory_mask'],
                text['token_features'], eot_mask(noun_mask, eot))
            for sample, (rows, cols) in zip(out, pairs):
                sample.update(ota_trajectory=rows.cpu(), ota_token=cols.cpu())
        if self.asp_loss is not None:
            actions = video['action_tokens']
            pairs = self.asp_loss.assignments(
                actions, actions.new_ones(actions.shape[:2],
                                          dtype=torch.bool),
                text['token_features'], eot_mask(verb_mask, eot))
            for sample, (rows, cols) in zip(out, pairs):
                sample.update(asp_action=rows.cpu(), asp_token=cols.cpu(),
                              num_actions=actions.shape[1])
        return out

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Normalised ``video_feature`` / ``text_feature`` per sample (the
        features retrieval evaluation compares)."""
        feats = self._forward(inputs, data_samples)
        video = F.normalize(feats['video_feature'], dim=-1)
        text = F.normalize(feats['text_feature'], dim=-1) \
            if 'text_feature' in feats else None
        for i, sample in enumerate(data_samples):
            sample.set_field(video[i], 'video_feature')
            if text is not None:
                sample.set_field(text[i], 'text_feature')
        return data_samples
