from .distributed import gather_no_grad, gather_with_grad, local_rows
from .mask import causal_mask, padding_mask, prefix_lm_mask
from .transformer import (LayerNorm, QuickGELU, ResidualAttentionBlock,
                          Transformer, copy_blocks)

__all__ = [
    'LayerNorm', 'QuickGELU', 'ResidualAttentionBlock', 'Transformer',
    'causal_mask', 'copy_blocks', 'gather_no_grad', 'gather_with_grad',
    'local_rows', 'padding_mask', 'prefix_lm_mask'
]
