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

    Each objective is a registered part with its own ``loss``; setting it
    to None in the config drops it (Table 4 ablations): ``vtc_loss``
    (eq. 3-5), ``vtm_head`` (VTM with hard negatives), ``mlm_head`` and
    ``plm_head`` (through the shared tied ``lm_head``), ``ota_loss``
    (eq. 6-7, needs the trajectory encoder), ``asp_loss`` (eq. 8-9, needs
    the action encoder). Loss weights live in each part's config.

    Random choices (MLM masks, PLM split points, VTM negatives) are drawn
    for the global batch from one generator seeded by the iteration
    (``VideoTextFeatures.generator``), in this order, so they are the same
    for any number of ranks and after a resume.

    Args:
        vtc_loss, vtm_head, mlm_head, plm_head, ota_loss, asp_loss (dict,
            optional): The objectives.
        **kwargs: The encoders and ``lm_head``, see
            :class:`VideoTextModel`.
    """

    def __init__(self,
                 vtc_loss: Optional[dict] = None,
                 vtm_head: Optional[dict] = None,
                 mlm_head: Optional[dict] = None,
                 plm_head: Optional[dict] = None,
                 ota_loss: Optional[dict] = None,
                 asp_loss: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        build = lambda cfg: MODELS.build(cfg) if cfg else None  # noqa: E731
        self.vtc_loss = build(vtc_loss)
        self.vtm_head = build(vtm_head)
        self.mlm_head = build(mlm_head)
        self.plm_head = build(plm_head)
        self.ota_loss = build(ota_loss)
        self.asp_loss = build(asp_loss)
        video = self.video_encoder
        needs = [(self.ota_loss, video.trajectory_encoder, 'ota_loss',
                  'video_encoder.trajectory_encoder'),
                 (self.asp_loss, video.action_encoder, 'asp_loss',
                  'video_encoder.action_encoder')]
        for head in ('vtm_head', 'mlm_head', 'plm_head'):
            needs.append((getattr(self, head), self.fusion_encoder, head,
                          'fusion_encoder'))
        for head in ('mlm_head', 'plm_head'):
            needs.append((getattr(self, head), self.lm_head, head,
                          'lm_head (the tied vocabulary read-out)'))
        for part, required, name, required_name in needs:
            if part is not None and required is None:
                raise ValueError(f'{name} needs a {required_name}')
        if self.vtm_head is not None and self.vtc_loss is None and \
                self.vtm_head.temperature is None:
            raise ValueError('vtm_head draws negatives by the VTC '
                             'similarity: without vtc_loss give it a '
                             'temperature (official: 0.07)')

    # -- objectives ---------------------------------------------------------
    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        """All enabled objectives of one batch (keys ``loss_*``)."""
        features = self.extract_features(
            inputs, data_samples,
            logit_scale=self.vtc_loss.scale()
            if self.vtc_loss is not None else None)
        video, text = features.video, features.text
        losses = {}
        if self.vtc_loss is not None:
            losses['loss_vtc'] = self.vtc_loss(video['video_feature'],
                                               text['text_feature'])
        # the generator's draws: VTM, then MLM, then PLM
        for name, head in (('loss_vtm', self.vtm_head),
                           ('loss_mlm', self.mlm_head),
                           ('loss_plm', self.plm_head)):
            if head is not None:
                losses[name] = head.loss(features, data_samples)
        if self.ota_loss is not None:
            losses['loss_ota'] = self.ota_loss(
                video['trajectory_tokens'], video['trajectory_mask'],
                text['token_features'],
                stack_field(data_samples, 'noun_mask'), features.eot_index)
        if self.asp_loss is not None:
            losses['loss_asp'] = self.asp_loss(
                video['action_tokens'], text['token_features'],
                stack_field(data_samples, 'verb_mask'), features.eot_index)
        return losses

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
        probs = self.vtm_head.match_probability(
            self, self.video_sequence(video).select(video_index),
            text['token_features'][text_index],
            attention_mask.flatten(0, 1)[text_index],
            text['eot_index'][text_index])
        return probs.view(b, n + 1)

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Normalised ``video_embed`` / ``text_embed`` per sample (the
        features retrieval evaluation compares).

        Samples with n texts (multiple-choice items: the pre-training
        validation) get what :class:`PretrainMechanismMetric` reads instead
        of ``text_embed``: ``vtm_probs (n + 1,)`` (:meth:`match_options`),
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
        video_embed = F.normalize(feats['video_feature'], dim=-1)
        text_embed = F.normalize(feats['text_feature'], dim=-1) \
            if 'text_feature' in feats else None
        for i, sample in enumerate(data_samples):
            sample.set_field(video_embed[i], 'video_embed')
            if text_embed is not None:
                sample.set_field(text_embed[i], 'text_embed')
        return data_samples

    def _predict_mechanism(self, video: Dict, data_samples: List) -> List:
        fields = dict(video_embed=F.normalize(video['video_feature'],
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
