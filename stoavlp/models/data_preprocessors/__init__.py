from .video_text_preprocessor import VideoTextDataPreprocessor, stack_field

__all__ = ['VideoTextDataPreprocessor', 'stack_field']
