"""Video and text encoders."""
from .clip_text import CLIPTextEncoder
from .clip_video import CLIPVideoEncoder

__all__ = ['CLIPVideoEncoder', 'CLIPTextEncoder']
