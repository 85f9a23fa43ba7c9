"""Batching and normalising video-text samples on the device."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from stoavlp.registry import MODELS

# OpenAI CLIP's pixel statistics, on the 0-255 scale.
CLIP_MEAN = (122.770938, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)


@MODELS.register_module()
class VideoTextDataPreprocessor(BaseDataPreprocessor):
    """Stack uint8 clips, normalise them, move everything to the device.

    Args:
        mean (Sequence[float]): Per-channel mean (0-255). CLIP's by default.
        std (Sequence[float]): Per-channel std (0-255). CLIP's by default.
    """

    def __init__(self, mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(1, 1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std).view(1, 1, 3, 1, 1),
                             persistent=False)

    def forward(self, data: Dict, training: bool = False) -> Dict:
        """``inputs``: list of ``(T, 3, H, W)`` uint8 -> ``(B, T, 3, H, W)``
        float, normalised; ``data_samples`` moved to the device."""
        data = self.cast_data(data)
        inputs: List[torch.Tensor] = data['inputs']
        video = torch.stack(list(inputs)) if isinstance(
            inputs, (list, tuple)) else inputs
        video = (video.float() - self.mean) / self.std
        return dict(inputs=video, data_samples=data.get('data_samples'))


def stack_field(data_samples: Optional[Sequence], name: str
                ) -> Optional[torch.Tensor]:
    """Stack a tensor field of every data sample (None if absent)."""
    if not data_samples or name not in data_samples[0]:
        return None
    return torch.stack([s.get(name) for s in data_samples])
