from .base import BaseVideoInferencer, list_videos
from .caption import VideoCaptionInferencer
from .gallery import VideoFeatureCache, model_fingerprint
from .matching import VideoTextMatchingInferencer
from .qa import VideoQAInferencer
from .retrieval import (TextToVideoRetrievalInferencer,
                        VideoToTextRetrievalInferencer)

__all__ = [
    'BaseVideoInferencer', 'list_videos', 'VideoCaptionInferencer',
    'VideoFeatureCache', 'model_fingerprint', 'VideoTextMatchingInferencer',
    'VideoQAInferencer', 'TextToVideoRetrievalInferencer',
    'VideoToTextRetrievalInferencer'
]
