"""FLOPs and parameters of a model, part by part (mmaction2's get_flops).

    python tools/analysis_tools/get_flops.py CONFIG [--frames 12]
        [--batch 1] [--mode loss|tensor]

One forward of ``--batch`` synthetic clips shaped like the config's input
(frames, image size, 10 boxes a frame, 32-token captions) under torch's
``FlopCounterMode``: ``--mode loss`` (default) is the forward of a training
step (every objective, the fusion encoder's passes included), ``tensor`` the
features only. FLOPs count a multiply-add as 2; attention is counted on CPUs
too (PyTorch's counter knows only the GPU attention kernels: the CPU one is
registered here with the same formula). The paper configs give the paper's
dimensions (ViT-B/16, 12 frames, 224 px); a full-size forward takes a few
seconds on a CPU.
"""
import argparse

import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from stoavlp.registry import MODELS
from stoavlp.testing import model_input_batch
from stoavlp.utils import register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--frames', type=int, default=None,
                        help="frames per clip (default: the model's)")
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--mode', choices=['loss', 'tensor'], default='loss')
    return parser.parse_args(argv)


def _cpu_attention_flops(query, key, value, *args, out_shape=None,
                         **kwargs):
    return sdpa_flop_count(query, key, value)


CPU_ATTENTION = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu:
    _cpu_attention_flops}


def count(model, inputs, samples, mode='loss'):
    """``{part: flops}`` of one forward (the children of ``model``, the
    video side's parts one by one; ``'total'`` for the whole) and ``{part:
    parameters}``."""
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   mode == 'loss')
    counter = FlopCounterMode(display=False, depth=3,
                              custom_mapping=CPU_ATTENTION)
    with torch.no_grad(), counter:
        model(data['inputs'], data['data_samples'], mode=mode)
    name = type(model).__name__
    per_module = counter.get_flop_counts()
    flops = {'total': counter.get_total_flops()}
    params = {'total': sum(p.numel() for p in model.parameters())}
    parts = []
    for part, module in model.named_children():
        if part == 'video_encoder':  # the STOA video side: CLIP and necks
            parts += [(f'{part}.{child}', m)
                      for child, m in module.named_children()]
        else:
            parts.append((part, module))
    for part, module in parts:
        flops[part] = sum(per_module.get(f'{name}.{part}', {}).values())
        params[part] = sum(p.numel() for p in module.parameters())
    return flops, params


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    for part in (cfg.model.video_encoder.backbone, cfg.model.text_encoder):
        part.pretrained = None  # shapes only
    if cfg.model.get('vtc_loss'):
        cfg.model.vtc_loss.pretrained = None
    model = MODELS.build(cfg.model).eval()
    video = cfg.model.video_encoder.backbone
    inputs, samples, frames = model_input_batch(cfg.model, args.batch,
                                                args.frames)
    flops, params = count(model, inputs, samples, args.mode)
    print(f'{type(model).__name__}: {args.batch} x {frames} frames at '
          f'{video.image_size} px, forward ({args.mode})')
    print('| part | GFLOPs | params (M) |\n|---|---|---|')
    for part in [p for p in flops if p != 'total'] + ['total']:
        print(f'| {part} | {flops[part] / 1e9:.3f} | '
              f'{params[part] / 1e6:.2f} |')
    return flops, params


if __name__ == '__main__':
    main()
