"""STOA-VLP pre-training with its six objectives (paper 3.2, eq. 10).

Letters: B local batch, B_all global batch, L text length, D joint width.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.dist import get_dist_info
from mmengine.logging import MessageHub

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from ..utils.distributed import gather_no_grad, local_rows
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

    # -- randomness shared by all ranks ------------------------------------
    def _generator(self) -> torch.Generator:
        step = MessageHub.get_current_instance().get_info('iter', 0)
        return torch.Generator().manual_seed(
            (torch.initial_seed() + 1_000_003 * int(step)) % 2**63)

    @staticmethod
    def _local_uniform(generator: torch.Generator, batch: int,
                       *shape: int) -> torch.Tensor:
        """This rank's rows of a global ``(B_all, *shape)`` uniform draw."""
        start, stop = local_rows(batch)
        world = get_dist_info()[1]
        draw = torch.rand((batch * world, *shape), generator=generator)
        return draw[start:stop]

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
            losses['loss_vtm'] = self.loss_vtm(video, text, video_seq,
                                               attention_mask, generator)
        if self.lm_head is not None and self.lm_head.mlm_loss is not None:
            losses['loss_mlm'] = self.loss_mlm(video_seq, token_ids,
                                               attention_mask, generator)
        if self.lm_head is not None and self.lm_head.plm_loss is not None:
            losses['loss_plm'] = self.loss_plm(video_seq, text, token_ids,
                                               attention_mask, generator)
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

    def loss_vtm(self, video: dict, text: dict, video_seq: tuple,
                 attention_mask: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        """VTM on B positives, B hard-negative videos, B hard-negative
        texts, drawn from the global similarity matrix. Negatives are
        gathered without gradient, as the official code does."""
        tokens, types, keep = video_seq
        b = tokens.shape[0]
        with torch.no_grad():
            all_video = gather_no_grad(F.normalize(video['video_feature'],
                                                   dim=-1))
            all_text = gather_no_grad(F.normalize(text['text_feature'],
                                                  dim=-1))
            scale = self.vtc_loss.scale() if self.vtc_loss else 1 / 0.07
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

    def loss_plm(self, video_seq: tuple, text: dict, token_ids: torch.Tensor,
                 attention_mask: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
        """PLM in one prefix-LM fusion pass (random split per caption)."""
        eot = text['eot_index']
        draw = self._local_uniform(generator, len(eot)).to(eot.device)
        split = self.lm_head.plm_loss.sample_split(eot, draw)
        _, fused_text = self.fuse(video_seq, text['token_features'],
                                  attention_mask, mode='prefix_lm',
                                  text_prefix=split)
        predicting = self.lm_head.plm_loss.target_mask(split, eot,
                                                       token_ids.shape[1])
        return self.lm_head.loss_plm(fused_text, token_ids, predicting,
                                     self.text_encoder.token_embedding.weight)

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
