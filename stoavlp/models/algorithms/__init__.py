from .base import VideoTextModel
from .pretrain import STOAVLPPretrainer

__all__ = ['STOAVLPPretrainer', 'VideoTextModel']
