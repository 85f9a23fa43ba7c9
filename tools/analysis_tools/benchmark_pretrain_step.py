"""Full STOA-VLP pre-training step vs a CLIP4Clip-style VTC-only step.

    python tools/analysis_tools/benchmark_pretrain_step.py [--batch 2]

Both models use the paper config's CLIP ViT-B/16 video and text encoders
(random weights, 12 frames at 224, text length 32). The full step runs all
six objectives; the VTC-only step is the same config with every STOA-VLP
part set to None (mean-pooled frames, VTC only). Prints forward+backward
times, their ratio (goal <= 1.15x) and the FLOPs of each part of the full
step (torch's FlopCounterMode, forward).
"""
import argparse
import os.path as osp
import statistics
import time
from collections import defaultdict

import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

from stoavlp.registry import MODELS
from stoavlp.testing import synthetic_batch
from stoavlp.utils import register_all_modules

CONFIG = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'stoavlp',
                  'stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py')
STOA_PARTS = ('fusion_encoder', 'vtm_head', 'lm_head', 'mlm_head',
              'plm_head', 'ota_loss', 'asp_loss')
STOA_NECKS = ('trajectory_encoder', 'action_encoder')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=5)
    return parser.parse_args()


def build(vtc_only: bool):
    cfg = Config.fromfile(CONFIG).model
    cfg.video_encoder.backbone.pretrained = None
    cfg.text_encoder.pretrained = None
    if vtc_only:
        for part in STOA_PARTS:
            cfg[part] = None
        for neck in STOA_NECKS:
            cfg.video_encoder[neck] = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def step(model, batch):
    data = model.data_preprocessor(batch, True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    sum(losses.values()).backward()
    model.zero_grad(set_to_none=True)
    return losses


def interleaved_medians(models, batch, repeat):
    """Median step time of each model, steps alternating between the
    models so that drifts of the machine's speed hit both alike."""
    for model in models:
        step(model, batch)  # warm-up
    times = [[] for _ in models]
    for _ in range(repeat):
        for model, record in zip(models, times):
            start = time.perf_counter()
            step(model, batch)
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def flops_by_part(model, batch):
    """Forward FLOPs per top-level part (backward is about twice these;
    the module attribution of backward ops is not reliable)."""
    counter = FlopCounterMode(display=False)
    data = model.data_preprocessor(batch, True)
    with counter, torch.no_grad():
        model(data['inputs'], data['data_samples'], mode='loss')
    parts = defaultdict(int)
    prefix = type(model).__name__ + '.'
    for name, counts in counter.get_flop_counts().items():
        if name.startswith(prefix) and name.count('.') == 1:
            parts[name[len(prefix):]] += sum(counts.values())
    total = counter.get_total_flops()
    parts['(outside the parts)'] = total - sum(parts.values())
    return parts, total


def main():
    args = parse_args()
    register_all_modules()
    inputs, samples = synthetic_batch(args.batch, frames=12, objects=10,
                                      classes=8, length=32, size=224,
                                      boxes_per_class=(3, 6))
    batch = dict(inputs=inputs, data_samples=samples)
    full, vtc_only = build(False), build(True)
    t_full, t_vtc = interleaved_medians([full, vtc_only], batch, args.repeat)
    print(f'batch {args.batch}, 12 frames 224x224, text 32, paper dims, '
          f'{torch.get_num_threads()} CPU threads, forward + backward, '
          f'median of {args.repeat} interleaved steps')
    print(f'  VTC-only (CLIP4Clip-style) step: {t_vtc:7.2f} s')
    print(f'  full STOA-VLP step (6 losses)  : {t_full:7.2f} s')
    print(f'  ratio: {t_full / t_vtc:.3f}x (goal <= 1.15x)')
    parts, total = flops_by_part(full, batch)
    print(f'Forward FLOPs of the full step ({total / 1e12:.3f} TFLOP; '
          'a parameter-sharing part, e.g. the text encoder used by MLM, '
          'counts where its module runs):')
    for part, flops in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f'  {part:<20}{flops / 1e9:10.1f} GFLOP {flops / total:7.1%}')


if __name__ == '__main__':
    main()
