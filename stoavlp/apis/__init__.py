"""Point a trained model at your own videos: :func:`init_model` and the
inferencers (MMEngine ``BaseInferencer`` style, as mmpretrain's)."""
from .inferencers import (BaseVideoInferencer, TextToVideoRetrievalInferencer,
                          VideoCaptionInferencer, VideoFeatureCache,
                          VideoQAInferencer, VideoTextMatchingInferencer,
                          VideoToTextRetrievalInferencer, list_videos)
from .model import init_model, resolve_config

__all__ = [
    'init_model', 'resolve_config', 'BaseVideoInferencer',
    'VideoCaptionInferencer', 'VideoQAInferencer',
    'VideoTextMatchingInferencer', 'TextToVideoRetrievalInferencer',
    'VideoToTextRetrievalInferencer', 'VideoFeatureCache', 'list_videos'
]
