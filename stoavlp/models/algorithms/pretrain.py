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
        explained with its true one (``mc_label``) or else its first.

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
        video = self.encode_video(inputs, data_samples)
        return self._explain(video, data_samples)

    def _true_text(self, data_samples: List, name: str) -> torch.Tensor:
        """``(B, L)`` field ``name`` of each sample's true text."""
        field = stack_field(data_samples, name)
        if field.dim() == 3:  # (B, n, L): the true option, else the first
            truth = torch.tensor([int(s.get('mc_label', 0))
                                  for s in data_samples],
                                 device=field.device)
            field = field[torch.arange(len(field), device=field.device),
                          truth]
        return field

    def _explain(self, video: Dict, data_samples: List) -> List[Dict]:
        token_ids, attention_mask, noun_mask, verb_mask = (
            self._true_text(data_samples, name)
            for name in ('token_ids', 'attention_mask', 'noun_mask',
                         'verb_mask'))
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

    @torch.no_grad()
    def match_options(self, video: Dict, data_samples: List
                      ) -> torch.Tensor:
        """VTM ``P(match)`` of each video with each of its n texts and with
        the true text of the sample half a batch away (a random negative:
        the demo's batches hold whole groups of one-attribute variants).

        Returns:
            torch.Tensor: ``(B, n + 1)``, the last column the random one.
        """
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        b, n, length = token_ids.shape
        text = self.encode_text(token_ids.flatten(0, 1),
                                attention_mask.flatten(0, 1))
        truth = self._true_text(data_samples, 'token_ids')
        truth_index = (token_ids == truth[:, None]).all(-1).float().argmax(1)
        shifted = (torch.arange(b, device=truth.device) + b // 2) % b
        text_index = torch.cat([
            torch.arange(b * n, device=truth.device).view(b, n),
            (shifted * n + truth_index[shifted])[:, None]], 1)  # (B, n + 1)
        video_index = torch.arange(b, device=truth.device)[:, None].expand(
            b, n + 1).reshape(-1)
        text_index = text_index.reshape(-1)
        tokens, types, keep = self.video_sequence(video)
        fused_video, fused_text = self.fuse(
            (tokens[video_index], types, keep[video_index]),
            text['token_features'][text_index],
            attention_mask.flatten(0, 1)[text_index])
        v_cls = video['frame_features'].shape[1]
        probs = self.vtm_head.match_probability(
            fused_video[:, v_cls],
            fused_text[torch.arange(len(text_index)),
                       text['eot_index'][text_index]])
        return probs.view(b, n + 1)

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Normalised ``video_feature`` / ``text_feature`` per sample (the
        features retrieval evaluation compares).

        Samples with n texts (multiple-choice items: the pre-training
        validation) get what :class:`PretrainMechanismMetric` reads instead
        of ``text_feature``: ``vtm_probs (n + 1,)`` (:meth:`match_options`),
        the OTA/ASP matches of the true text (:meth:`explain`),
        ``frame_feature (D,)`` (the mean frame token), and with the necks
        ``trajectory_tokens (N, D)``, ``trajectory_mask (N,)``,
        ``action_tokens (M, D)``.
        """
        video = self.encode_video(inputs, data_samples)
        token_ids = stack_field(data_samples, 'token_ids')
        if token_ids is not None and token_ids.dim() == 3:
            return self._predict_mechanism(video, data_samples)
        feats = dict(video)
        if token_ids is not None:
            feats.update(self.encode_text(
                token_ids, stack_field(data_samples, 'attention_mask')))
        video_feature = F.normalize(feats['video_feature'], dim=-1)
        text = F.normalize(feats['text_feature'], dim=-1) \
            if 'text_feature' in feats else None
        for i, sample in enumerate(data_samples):
            sample.set_field(video_feature[i], 'video_feature')
            if text is not None:
                sample.set_field(text[i], 'text_feature')
        return data_samples

    def _predict_mechanism(self, video: Dict, data_samples: List) -> List:
        fields = dict(video_feature=F.normalize(video['video_feature'],
                                                dim=-1),
                      frame_feature=video['frame_features'].mean(1))
        for key in ('trajectory_tokens', 'trajectory_mask', 'action_tokens'):
            if key in video:
                fields[key] = video[key]
        if self.vtm_head is not None:
            fields['vtm_probs'] = self.match_options(video, data_samples)
        explained = self._explain(video, data_samples)
        for i, sample in enumerate(data_samples):
            for key, value in fields.items():
                sample.set_field(value[i].cpu(), key)
            for key, value in explained[i].items():
                if key.startswith(('ota_', 'asp_')):
                    sample.set_field(value, key)
            if 'num_actions' in explained[i]:
                sample.set_field(explained[i]['num_actions'], 'num_actions',
                                 field_type='metainfo')
        return data_samples
