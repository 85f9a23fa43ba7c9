"""Video and text encoders."""
from .clip_text import CLIPTextEncoder
from .clip_video import CLIPVideoEncoder
from .stoa_video_encoder import STOAVideoEncoder

__all__ = ['CLIPVideoEncoder', 'CLIPTextEncoder', 'STOAVideoEncoder']
