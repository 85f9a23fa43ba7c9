"""Convert OpenAI / open_clip CLIP weights into stoavlp initial weights.

    python tools/model_converters/clip_to_stoavlp.py SRC DST \\
        [--config CONFIG] [--seed 0]

SRC is an OpenAI checkpoint (the TorchScript archive ``ViT-B-16.pt``) or a
plain state dict in OpenAI's layout (``visual.*`` plus the text tensors at
the top level, e.g. an open_clip ``CLIP`` state dict, possibly under
``state_dict`` and/or with ``module.``). State dicts are read with
``weights_only=True``; of a TorchScript archive only the tensors are used.
A transformers ``CLIPModel`` directory works too (see
hf_clip_to_stoavlp.py).

The model of CONFIG (default: the paper's pre-training config) is built with
SRC as its backbones' ``pretrained`` and initialised by its own
``init_weights()``: exactly the CLIP initialisation training would do.

  visual.* (ViT: conv1 (C,3,p,p), class_embedding (C,),
      positional_embedding (1+G*G,C), blocks, ln_post, proj (C,D))
                          -> video_encoder.* (position rows resized
                             bicubically if the config's grid differs)
  token_embedding (V,W), positional_embedding (77,W), blocks, ln_final,
      text_projection (W,D)
                          -> text_encoder.* (first L positions)
  top 2 video blocks, ln_post, proj
                          -> trajectory_encoder.*, action_encoder.*
  first 6 text blocks, text positions (first 77 of P rows), ln_final
                          -> fusion_encoder.*

DST is ``{'state_dict', 'meta'}``, written atomically, for
``load_from=DST`` (with the pre-training config also pass
``model.video_encoder.backbone.pretrained=None model.text_encoder.pretrained=None``
so that init_weights does not look for the CLIP file):

    python tools/train.py CONFIG --cfg-options load_from=DST \\
        model.video_encoder.backbone.pretrained=None model.text_encoder.pretrained=None

The report lists the CLIP tensors not used (``logit_scale``: the VTC loss
starts from its own temperature, as ``init_weights()`` does; blocks the
config does not have) and the stoavlp tensors CLIP does not initialise (the
box MLPs and position tables, [CLS] and action queries, temporal and
segment-type embeddings, the heads and the VTC temperature). open_clip
models trained with GELU need ``act='gelu'`` in the config's backbones.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from converter_cli import converter_main  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    ROOT, 'configs', 'stoavlp',
    'stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py')


def main(argv=None):
    from stoavlp.models.utils.converters import clip_to_stoavlp
    return converter_main(argv, __doc__, 'CLIP checkpoint (.pt/.pth/.bin)',
                          clip_to_stoavlp, DEFAULT_CONFIG,
                          osp.basename(__file__))


if __name__ == '__main__':
    main()
