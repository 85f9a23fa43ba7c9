"""An mmaction2 recogniser on STOA-VLP's video encoder and necks.

Letters: B clips, T frames, K boxes per frame, N trajectories, M action
queries, HW patches, C video width, D joint width, P pooled parts (1-3),
S classes.
"""
import math
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmaction.models.recognizers import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import OptSampleList, SampleList

# Registers stoavlp's parts, so configs can name them as 'stoavlp.<Name>'.
import stoavlp.models  # noqa: F401

#: Data sample fields (set by ``PackActionInputs(algorithm_keys=...)``)
#: that the trajectory neck reads.
BOX_FIELDS = ('obj_boxes', 'obj_labels', 'obj_mask')


def stack_boxes(data_samples: SampleList,
                device: torch.device) -> Dict[str, torch.Tensor]:
    """Batch the object boxes of every data sample.

    Args:
        data_samples (list[ActionDataSample]): Each with ``obj_boxes
            (T, K, 4)`` (x1y1x2y2 pixels of the model input), ``obj_labels
            (T, K)`` (trajectory ids, -1 for padding) and ``obj_mask (T, K)``
            as numpy arrays or tensors.
        device (torch.device): Where the batch goes.

    Returns:
        dict: ``boxes (B, T, K, 4)`` float, ``labels (B, T, K)`` long and
        ``box_mask (B, T, K)`` bool.
    """
    missing = [k for k in BOX_FIELDS if k not in data_samples[0]]
    if missing:
        raise KeyError(
            f'data samples lack {missing}: add stoavlp.LoadObjectDetections '
            'and stoavlp.ProjectObjectBoxes to the pipeline and '
            f'PackActionInputs(algorithm_keys={BOX_FIELDS})')

    def stack(name: str, dtype: torch.dtype) -> torch.Tensor:
        values = [s.get(name) for s in data_samples]
        values = [torch.from_numpy(np.asarray(v)) if not torch.is_tensor(v)
                  else v for v in values]
        return torch.stack(values).to(device=device, dtype=dtype)

    return dict(boxes=stack('obj_boxes', torch.float32),
                labels=stack('obj_labels', torch.long),
                box_mask=stack('obj_mask', torch.bool))


def sinusoidal_positions(num_positions: int, width: int) -> torch.Tensor:
    """The Transformer's sine/cosine position code, ``(num_positions,
    width)``, values in [-1, 1]."""
    position = torch.arange(num_positions, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) *
                     (-math.log(10000.0) / width))
    code = torch.zeros(num_positions, width)
    code[:, 0::2] = torch.sin(position * freq)
    code[:, 1::2] = torch.cos(position * freq)[:, :width // 2]
    return code


@MODELS.register_module()
class STOARecognizer(BaseRecognizer):
    """Action recognition with STOA-VLP's trajectory and action tokens.

    The backbone is stoavlp's ``STOAVideoEncoder`` (the same module the
    stoavlp algorithms use): ``CLIPVideoEncoder`` encodes the T frames, the
    ``TrajectoryEncoder`` (eq. 1) turns the boxes and the patch tokens of
    ``object_layer`` into N trajectory tokens, the ``ActionEncoder`` (eq. 2)
    pools the tokens of ``action_layer`` (and the object tokens) with M
    learned queries. The feature handed to the mmaction2 head is the
    concatenation of

    - the mean over frames of the frame [CLS] features, ``(B, D)``;
    - the mean (or max, ``trajectory_pool='max'``) of the present
      trajectory tokens, ``(B, D)`` (zeros for a clip without objects),
      when the trajectory encoder is set;
    - the mean of the action tokens, ``(B, D)``, when the action encoder is
      set;

    so the head's ``in_channels`` is ``P * D``. Either neck may be None
    (ablations); without the trajectory encoder the action encoder attends
    over patch tokens only.

    Inputs are one clip per video, ``(B, T, 3, H, W)`` (mmaction2's
    ``FormatShape('NCHW')`` with ``num_clips=1``), and the boxes travel in
    the data samples (see :func:`stack_boxes`).

    Args:
        backbone (dict): A ``stoavlp.STOAVideoEncoder`` config.
        cls_head (dict): An mmaction2 head taking ``(B, P * D)`` features,
            e.g. ``TSNHead(spatial_type=None)``.
        trajectory_pool (str): ``'mean'`` or ``'max'`` over the present
            trajectories. Defaults to ``'mean'``.
        temporal_positions (str): ``'sinusoid'`` adds ``C ** -0.5`` times
            the sine/cosine code to both necks' ``frame_position`` at
            initialisation; ``'none'`` keeps them as the necks make them.
            The necks initialise them randomly at CLIP's positional scale
            and the backbone encodes frames independently, so frame order
            (move_left vs move_right, grow vs shrink) is in those tables
            only; the code adds a known order signal. On the demo data it
            made no measurable difference after 20 epochs (README).
            Defaults to ``'sinusoid'``.
        train_cfg (dict, optional): Unused, mmaction2 convention.
        test_cfg (dict, optional): Unused, mmaction2 convention.
        data_preprocessor (dict, optional): ``ActionDataPreprocessor`` with
            ``format_shape='NCHW'``.
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: dict,
                 trajectory_pool: str = 'mean',
                 temporal_positions: str = 'sinusoid',
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            cls_head=cls_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        if trajectory_pool not in ('mean', 'max'):
            raise ValueError(f'trajectory_pool must be "mean" or "max", got '
                             f'{trajectory_pool!r}')
        self.trajectory_pool = trajectory_pool
        if temporal_positions not in ('sinusoid', 'none'):
            raise ValueError(f'temporal_positions must be "sinusoid" or '
                             f'"none", got {temporal_positions!r}')
        self.temporal_positions = temporal_positions
        expected = self.backbone.embed_dim * self.num_pooled_parts
        in_channels = getattr(self.cls_head, 'in_channels', expected)
        if in_channels != expected:
            raise ValueError(
                f'cls_head.in_channels is {in_channels}, but the pooled '
                f'feature has {self.num_pooled_parts} parts of '
                f'{self.backbone.embed_dim} channels = {expected}')

    @property
    def num_pooled_parts(self) -> int:
        """P: video feature, plus one per neck in use."""
        return 1 + len(self.backbone.necks)

    def init_weights(self) -> None:
        """Initialise every part (``init_cfg``: e.g. pre-trained weights;
        the backbone initialises its necks from the top video blocks unless
        ``init_necks_from_backbone=False``), then add the temporal position
        code (see ``temporal_positions``)."""
        first_call = not self.is_init
        super().init_weights()
        if self.temporal_positions == 'sinusoid' and first_call:
            with torch.no_grad():
                for neck in self.backbone.necks:
                    position = neck.frame_position  # (T or T + 1, C)
                    position.add_(sinusoidal_positions(*position.shape).to(
                        position) * position.shape[1]**-0.5)

    def encode_tokens(self, inputs: torch.Tensor,
                      data_samples: OptSampleList = None
                      ) -> Dict[str, torch.Tensor]:
        """Run the backbone (``STOAVideoEncoder``).

        Args:
            inputs (torch.Tensor): ``(B, T, 3, H, W)`` normalised frames.
            data_samples (list[ActionDataSample], optional): With the boxes;
                required when the trajectory encoder is used.

        Returns:
            dict: ``video_feature (B, D)``, ``frame_features (B, T, D)``;
            with the trajectory encoder ``trajectory_tokens (B, N, D)``,
            ``trajectory_mask (B, N)``, ``object_tokens (B, T, K, C)``,
            ``object_mask (B, T, K)``; with the action encoder
            ``action_tokens (B, M, D)``.
        """
        if inputs.dim() != 5:
            raise ValueError(
                'STOARecognizer takes one clip per video, (B, T, 3, H, W) '
                f'(FormatShape("NCHW"), num_clips=1); got {inputs.shape}')
        boxes = {}
        if self.backbone.trajectory_encoder is not None:
            if not data_samples:
                raise ValueError('the trajectory encoder needs the data '
                                 'samples (they carry the boxes)')
            stacked = stack_boxes(data_samples, inputs.device)
            boxes = dict(obj_boxes=stacked['boxes'],
                         obj_labels=stacked['labels'],
                         obj_mask=stacked['box_mask'])
        return self.backbone(inputs, **boxes)

    def pool_tokens(self, tokens: Dict[str, torch.Tensor]) -> torch.Tensor:
        """``[video_feature ; pooled present trajectories ; mean action]``.

        Args:
            tokens (dict): From :meth:`encode_tokens`.

        Returns:
            torch.Tensor: ``(B, P * D)``.
        """
        parts: List[torch.Tensor] = [tokens['video_feature']]
        if 'trajectory_tokens' in tokens:
            traj = tokens['trajectory_tokens']  # (B, N, D), absent are 0
            present = tokens['trajectory_mask'].bool()  # (B, N)
            if self.trajectory_pool == 'max':
                pooled = traj.masked_fill(~present[..., None],
                                          float('-inf')).amax(1)
                # a clip without objects: zeros, not -inf
                pooled = pooled.masked_fill(~present.any(1, keepdim=True), 0)
            else:
                weight = present.to(traj.dtype)
                pooled = (traj * weight[..., None]).sum(1) / weight.sum(
                    1, keepdim=True).clamp(min=1)
            parts.append(pooled)
        if 'action_tokens' in tokens:
            parts.append(tokens['action_tokens'].mean(1))
        return torch.cat(parts, dim=-1)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'neck',
                     data_samples: OptSampleList = None,
                     test_mode: bool = False) -> Tuple[object, dict]:
        """Features at ``stage``: ``'backbone'`` (the token dict of
        :meth:`encode_tokens`), ``'neck'`` (the pooled ``(B, P * D)``) or
        ``'head'`` (class scores ``(B, S)``). The second item holds the
        head's keyword arguments (``num_segs=1``: one clip per video)."""
        head_kwargs = dict(num_segs=1)
        tokens = self.encode_tokens(inputs, data_samples)
        if stage == 'backbone':
            return tokens, head_kwargs
        feats = self.pool_tokens(tokens)
        if stage == 'head':
            return self.cls_head(feats, **head_kwargs), head_kwargs
        return feats, head_kwargs

    def predict(self, inputs: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Like mmaction2's, but the boxes in ``data_samples`` reach the
        necks. Sets ``pred_score (S,)`` and ``pred_label`` per sample."""
        feats, head_kwargs = self.extract_feat(
            inputs, data_samples=data_samples, test_mode=True)
        return self.cls_head.predict(feats, data_samples, **head_kwargs)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor',
                stage: str = 'neck',
                **kwargs):
        """mmaction2's modes; ``'tensor'`` returns :meth:`extract_feat` at
        ``stage`` (and, unlike the base class, uses ``data_samples``)."""
        if mode == 'tensor':
            return self.extract_feat(inputs, stage, data_samples)[0]
        return super().forward(inputs, data_samples, mode, **kwargs)
