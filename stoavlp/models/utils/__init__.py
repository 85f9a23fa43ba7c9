from .converters import (ConversionReport, build_initialised,
                         clip_to_stoavlp, group_names, save_converted)
from .distributed import gather_no_grad, gather_with_grad, local_rows
from .mask import causal_mask, padding_mask, prefix_lm_mask
from .transformer import (LayerNorm, QuickGELU, ResidualAttentionBlock,
                          Transformer, copy_blocks)

__all__ = [
    'ConversionReport', 'build_initialised', 'clip_to_stoavlp',
    'group_names', 'save_converted', 'LayerNorm', 'QuickGELU',
    'ResidualAttentionBlock', 'Transformer',
    'causal_mask', 'copy_blocks', 'gather_no_grad', 'gather_with_grad',
    'local_rows', 'padding_mask', 'prefix_lm_mask'
]
