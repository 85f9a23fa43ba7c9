"""Stage 0 of the demo: a tiny CLIP, trained contrastively.

Letters: B batch, T frames, K boxes per frame, N object classes of a clip,
HW patches, C video width, D joint width.
"""
from typing import Dict, List, Optional

import torch

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from ..necks.trajectory_encoder import build_roi_align
from .base import VideoTextModel


@MODELS.register_module()
class CLIPPretrainer(VideoTextModel):
    """CLIP's video and text towers trained with VTC (eq. 3-5), optionally
    with region-word alignment (:class:`RegionWordLoss`).

    No CLIP weights can be downloaded for the demo, so this trains the
    stand-in: the demo-size towers on demo clips and captions, exported by
    ``ExportCLIPHook`` as an OpenAI-layout state dict that the STOA-VLP
    configs load through ``pretrained=``, as the paper config loads
    ``ViT-B-16.pt``.

    A region feature is CLIP's image head applied to an object's patch
    tokens: RoIAlign on the top block's patch grid, the mean over the box
    and over the frames of the object's class, then ``ln_post`` and
    ``proj``.

    Args:
        vtc_loss (dict): ``VTCLoss``; its learned scale is exported as
            ``logit_scale``.
        region_word_loss (dict, optional): ``RegionWordLoss``. Needs
            ``obj_noun_index`` in the data samples (``MatchObjectNouns``).
        num_classes (int): N, the object classes per clip that can pair
            with a noun. Defaults to 20.
        roi_size (int): RoIAlign output side. Defaults to 3.
        **kwargs: ``video_encoder`` (an ``STOAVideoEncoder`` without
            necks), ``text_encoder``, ``data_preprocessor`` (see
            :class:`VideoTextModel`).
    """

    def __init__(self,
                 vtc_loss: dict,
                 region_word_loss: Optional[dict] = None,
                 num_classes: int = 20,
                 roi_size: int = 3,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.vtc_loss = MODELS.build(vtc_loss)
        self.region_word_loss = MODELS.build(region_word_loss) \
            if region_word_loss else None
        self.num_classes = num_classes
        self.roi_align = build_roi_align(dict(type='TorchvisionRoIAlign'),
                                         roi_size)
        backbone = self.video_encoder.backbone
        if self.video_encoder.necks:
            raise ValueError('CLIPPretrainer trains the CLIP towers only: '
                             'set video_encoder.trajectory_encoder and '
                             'action_encoder to None')
        self.region_layer = len(backbone.transformer.resblocks)
        if self.region_word_loss is not None and \
                self.region_layer not in backbone.feature_layers:
            raise ValueError(
                'region_word_loss needs the top block\'s tokens: add '
                f'{self.region_layer} to video_encoder.backbone.'
                f'feature_layers {backbone.feature_layers}')

    def region_features(self, patch_tokens: torch.Tensor,
                        data_samples: List,
                        image_size) -> Dict[str, torch.Tensor]:
        """``regions (B, N, D)`` and ``present (B, N)`` of each class.

        Args:
            patch_tokens (torch.Tensor): ``(B, T, HW, C)`` top block output.
            data_samples (list): With ``obj_boxes (T, K, 4)`` input pixels,
                ``obj_labels (T, K)`` and ``obj_mask (T, K)``.
            image_size (tuple): ``(H, W)`` of the frames.
        """
        b, t, hw, c = patch_tokens.shape
        grid = int(round(hw**0.5))
        boxes = stack_field(data_samples, 'obj_boxes').float()
        labels = stack_field(data_samples, 'obj_labels')
        mask = stack_field(data_samples, 'obj_mask').bool() & (
            labels >= 0) & (labels < self.num_classes)
        vb, vt, vk = mask.nonzero(as_tuple=True)
        h_img, w_img = image_size
        to_grid = boxes.new_tensor([grid / w_img, grid / h_img] * 2)
        rois = torch.cat([(vb * t + vt)[:, None].float(),
                          boxes[vb, vt, vk] * to_grid], 1)
        feat = patch_tokens.reshape(b * t, grid, grid, c).permute(
            0, 3, 1, 2).float().contiguous()
        pooled = self.roi_align(feat, rois).mean(dim=(-2, -1))  # (P, C)
        slot = vb * self.num_classes + labels[vb, vt, vk]
        sums = pooled.new_zeros(b * self.num_classes, c).index_add(
            0, slot, pooled)
        counts = pooled.new_zeros(b * self.num_classes).index_add(
            0, slot, torch.ones_like(slot, dtype=pooled.dtype))
        mean = sums / counts.clamp(min=1)[:, None]
        encoder = self.video_encoder.backbone
        regions = encoder.ln_post(mean.to(patch_tokens.dtype)) @ encoder.proj
        return dict(regions=regions.view(b, self.num_classes, -1),
                    present=(counts > 0).view(b, self.num_classes))

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        """``loss_vtc`` and, with region-word alignment, ``loss_region``.
        """
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        out = self.video_encoder.backbone(inputs)
        text = self.encode_text(token_ids, attention_mask)
        losses = dict(loss_vtc=self.vtc_loss(out['video_feature'],
                                             text['text_feature']))
        if self.region_word_loss is not None:
            region = self.region_features(
                out['layer_tokens'][self.region_layer][:, :, 1:],
                data_samples, tuple(inputs.shape[-2:]))
            noun_index = stack_field(data_samples, 'obj_noun_index')
            noun_index = noun_index[:, :self.num_classes]
            words = text['token_features'].gather(
                1, noun_index.clamp(min=0)[..., None].expand(
                    -1, -1, text['token_features'].shape[-1]))
            losses['loss_region'] = self.region_word_loss(
                region['regions'], words,
                region['present'] & (noun_index >= 0))
        return losses

    def clip_state_dict(self) -> Dict[str, torch.Tensor]:
        """The towers in OpenAI CLIP's layout (``visual.*``, text keys,
        ``logit_scale``), loadable by ``pretrained=``."""
        state = {f'visual.{k}': v.detach().clone()
                 for k, v in self.video_encoder.backbone.state_dict().items()}
        state.update({k: v.detach().clone()
                      for k, v in self.text_encoder.state_dict().items()})
        state['logit_scale'] = self.vtc_loss.logit_scale.detach().clone()
        return state
