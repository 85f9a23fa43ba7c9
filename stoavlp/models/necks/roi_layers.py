"""RoIAlign layers on the patch grid, built from ``roi_layer=dict(type=...)``.

Both registered layers compute the same RoIAlign (``aligned=True``, adaptive
sampling, average inside a bin, as the official ``ObjectEncoder``) with one
call signature, ``layer(features (N, C, H, W), rois (P, 5)) -> (P, C, S,
S)``, where a roi is ``(image index, x1, y1, x2, y2)`` in feature-map
units (``spatial_scale`` 1) and S is ``output_size``:

- ``TorchvisionRoIAlign``: ``torchvision.ops.RoIAlign`` (the default; no
  compiled mmcv needed).
- ``MMCVRoIAlign``: ``mmcv.ops.RoIAlign``; needs full mmcv
  (``bash tools/install_mmcv_full.sh``). Build-time ``ImportError``
  without it.
"""
import inspect
from typing import Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from torchvision.ops import RoIAlign as _TorchvisionRoIAlign

from stoavlp.registry import MODELS

#: The registered RoI layers (named in errors).
ROI_LAYERS = ('TorchvisionRoIAlign', 'MMCVRoIAlign')
#: The default ``roi_layer`` of the trajectory encoder.
DEFAULT_ROI_LAYER = dict(type='TorchvisionRoIAlign')
MMCV_INSTALL_HINT = ('full mmcv (compiled mmcv.ops): run `bash '
                     'tools/install_mmcv_full.sh`, or use '
                     "roi_layer=dict(type='TorchvisionRoIAlign') (the same "
                     'results)')


@MODELS.register_module()
class TorchvisionRoIAlign(_TorchvisionRoIAlign):
    """``torchvision.ops.RoIAlign`` with the trajectory encoder's defaults.

    Args:
        output_size (int | tuple[int, int]): S.
        spatial_scale (float): Feature units per roi unit. Defaults to 1.
        sampling_ratio (int): Samples per bin side; ``-1`` adaptive
            (``ceil(roi side / S)``). Defaults to -1.
        aligned (bool): Shift boxes by -0.5 (pixel centres). Defaults to
            True.
    """

    def __init__(self,
                 output_size: Union[int, Tuple[int, int]],
                 spatial_scale: float = 1.0,
                 sampling_ratio: int = -1,
                 aligned: bool = True) -> None:
        super().__init__(output_size, spatial_scale=spatial_scale,
                         sampling_ratio=sampling_ratio, aligned=aligned)


@MODELS.register_module()
class MMCVRoIAlign(nn.Module):
    """``mmcv.ops.RoIAlign`` with the trajectory encoder's defaults (the
    same values as :class:`TorchvisionRoIAlign`).

    Args:
        output_size (int | tuple[int, int]): S.
        spatial_scale (float): Defaults to 1.
        sampling_ratio (int): ``0`` adaptive. Defaults to 0.
        pool_mode (str): ``'avg'`` or ``'max'`` inside a bin. Defaults to
            ``'avg'``.
        aligned (bool): Defaults to True.

    Raises:
        ImportError: Full mmcv is not installed.
    """

    def __init__(self,
                 output_size: Union[int, Tuple[int, int]],
                 spatial_scale: float = 1.0,
                 sampling_ratio: int = 0,
                 pool_mode: str = 'avg',
                 aligned: bool = True) -> None:
        super().__init__()
        try:
            from mmcv.ops import RoIAlign
        except ImportError as err:
            raise ImportError(f'{type(self).__name__} needs '
                              f'{MMCV_INSTALL_HINT} ({err})') from err
        self.op = RoIAlign(output_size, spatial_scale=spatial_scale,
                           sampling_ratio=sampling_ratio,
                           pool_mode=pool_mode, aligned=aligned)

    @property
    def output_size(self) -> Tuple[int, int]:
        return self.op.output_size

    def forward(self, input: torch.Tensor,
                rois: torch.Tensor) -> torch.Tensor:
        return self.op(input, rois)


def build_roi_align(roi_layer: dict, output_size: int) -> nn.Module:
    """Build ``roi_layer`` (a ``MODELS`` config, unprefixed names looked up
    in the stoavlp scope) with ``output_size`` S.

    Raises:
        TypeError: ``roi_layer`` is not a dict with a ``type``.
        KeyError: ``type`` is not registered (the message names the RoI
            layers there are).
    """
    if not isinstance(roi_layer, (dict, ConfigDict)) or \
            'type' not in roi_layer:
        raise TypeError("roi_layer must be a dict with a 'type' (one of "
                        f'{", ".join(ROI_LAYERS)}), got {roi_layer!r}')
    cfg = dict(roi_layer)
    scope = cfg.setdefault('_scope_', 'stoavlp')
    layer_type = cfg['type']
    if isinstance(layer_type, str):
        with MODELS.switch_scope_and_registry(scope) as registry:
            # (get() falls back to importing the name: 'cuda' is a module)
            found = registry.get(layer_type)
        if not (inspect.isclass(found) or inspect.isfunction(found)):
            raise KeyError(f'roi_layer type {layer_type!r} is not registered '
                           f'in MODELS (RoI layers: {", ".join(ROI_LAYERS)})')
    return MODELS.build(cfg, default_args=dict(output_size=output_size))
