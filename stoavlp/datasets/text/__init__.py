"""Text side of the data pipeline: CLIP BPE tokenizer and POS tagger."""
from .clip_tokenizer import CLIPTokenizer, build_clip_tokenizer_files
from .pos_tagger import SpacyPOSTagger, read_tag_cache

__all__ = [
    'CLIPTokenizer', 'SpacyPOSTagger', 'build_clip_tokenizer_files',
    'read_tag_cache'
]
