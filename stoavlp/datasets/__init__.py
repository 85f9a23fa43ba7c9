from .bad_samples import BadSampleError, GuardedPipeline
from .base import AnnotationError, BaseVideoTextDataset
from .detection_files import (DetectionFileError, Detections, read_detections,
                              write_detections)
from .didemo import DiDeMoRetrievalDataset
from .lsmdc import LSMDCRetrievalDataset
from .msrvtt import (MSRVTTCaptionDataset, MSRVTTMCDataset, MSRVTTQADataset,
                     MSRVTTRetrievalDataset)
from .msvd import MSVDCaptionDataset, MSVDQADataset
from .text import CLIPTokenizer, SpacyPOSTagger
from .transforms import *  # noqa: F401,F403
from .video_text import VideoTextDataset
from .video_text_shards import VideoTextShardDataset
from .webvid import WebVidDataset

__all__ = [
    'AnnotationError', 'BadSampleError', 'BaseVideoTextDataset',
    'CLIPTokenizer', 'DetectionFileError', 'Detections',
    'DiDeMoRetrievalDataset', 'GuardedPipeline', 'LSMDCRetrievalDataset',
    'MSRVTTCaptionDataset', 'MSRVTTMCDataset', 'MSRVTTQADataset',
    'MSRVTTRetrievalDataset', 'MSVDCaptionDataset', 'MSVDQADataset',
    'SpacyPOSTagger', 'VideoTextDataset', 'VideoTextShardDataset',
    'WebVidDataset', 'read_detections', 'write_detections'
]
