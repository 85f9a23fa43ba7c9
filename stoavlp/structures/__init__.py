from .retrieval_features import RetrievalFeatures
from .video_text_data_sample import VideoTextDataSample

__all__ = ['RetrievalFeatures', 'VideoTextDataSample']
