"""Convert a transformers CLIP directory into stoavlp initial weights.

    python tools/model_converters/hf_clip_to_stoavlp.py SRC_DIR DST \\
        [--config CONFIG] [--seed 0]

SRC_DIR is what ``CLIPModel.save_pretrained`` writes (``config.json`` and
``model.safetensors`` or ``pytorch_model.bin``, not sharded), e.g. a local
copy of ``openai/clip-vit-base-patch16``. Its names are mapped to OpenAI's
(``stoavlp.models.utils.clip_weights.hf_to_openai``):

  vision_model.embeddings.{patch_embedding, class_embedding,
      position_embedding}, pre_layrnorm, post_layernorm
                          -> video_encoder.{conv1, class_embedding,
                             positional_embedding, ln_pre, ln_post}
  {vision,text}_model.encoder.layers.N.self_attn.{q,k,v}_proj (C,C) each
                          -> ...resblocks.N.attn.in_proj_* (3C,C), q;k;v
  self_attn.out_proj, layer_norm1/2, mlp.fc1/fc2
                          -> attn.out_proj, ln_1/2, mlp.c_fc/c_proj
  visual_projection (D,C), text_projection (D,W)
                          -> video_encoder.proj (C,D), text_encoder.
                             text_projection (W,D) (transposed)
  text_model.embeddings.{token_embedding, position_embedding},
      final_layer_norm    -> text_encoder.{token_embedding,
                             positional_embedding, ln_final}

and then everything is as in clip_to_stoavlp.py (same implementation: the
model of CONFIG is built with SRC_DIR as its backbones' ``pretrained`` and
initialised by its own ``init_weights()``; the trajectory, action and
fusion encoders are initialised from the loaded blocks). Unused tensors
are reported by their OpenAI names (``logit_scale`` is always unused: the
VTC loss starts from its own temperature). A ``hidden_act`` in config.json
other than the backbones' ``act`` is reported as a warning.

DST is ``{'state_dict', 'meta'}``, written atomically, for ``load_from``
(see clip_to_stoavlp.py for the command).
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from converter_cli import converter_main  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    ROOT, 'configs', 'stoavlp',
    'stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py')


def convert(src_dir, config, seed):
    from stoavlp.models.utils.converters import clip_to_stoavlp
    if not osp.isfile(osp.join(src_dir, 'config.json')):
        raise ValueError(f'{src_dir} is not a transformers CLIPModel '
                         'directory (no config.json)')
    return clip_to_stoavlp(src_dir, config, seed)


def main(argv=None):
    return converter_main(argv, __doc__, 'transformers CLIPModel directory',
                          convert, DEFAULT_CONFIG, osp.basename(__file__))


if __name__ == '__main__':
    main()
