from .video_text_data_sample import VideoTextDataSample

__all__ = ['VideoTextDataSample']
