"""Training throughput (clips/s) and model FLOPs utilisation (MFU).

    python tools/analysis_tools/throughput.py CONFIG [--batch 8] [--steps 10]
        [--amp bf16|fp16|none] [--device auto|cpu|cuda]

Runs full training steps (forward, backward, optimizer) of the config's
model on synthetic batches shaped like its input (frames, size, K boxes,
text length) and reports clips/s. FLOPs per step are counted once with
torch's FlopCounterMode (forward and backward); MFU is achieved FLOP/s over
the device's peak dense FLOP/s at the training precision (known GPUs below;
override with ``--peak-tflops``). On a CPU MFU is not reported.
"""
import argparse
import time

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch.utils.flop_counter import FlopCounterMode

from stoavlp.registry import MODELS
from stoavlp.testing import model_input_batch
from stoavlp.utils import register_all_modules

# Peak dense tensor-core TFLOP/s (bf16/fp16; fp32 = TF32 where used).
PEAK_TFLOPS = {'H200': 989.4, 'H100': 989.4, 'A100': 312.0, 'L40S': 362.0,
               'A10': 125.0, 'V100': 125.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--frames', type=int, default=None,
                        help='frames per clip (default: the model\'s)')
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--amp', choices=['none', 'bf16', 'fp16'],
                        default='none')
    parser.add_argument('--device', default='auto')
    parser.add_argument('--peak-tflops', type=float, default=None)
    return parser.parse_args(argv)


def peak_tflops(device: torch.device, given=None):
    if given:
        return given
    if device.type != 'cuda':
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def build(cfg, device, amp):
    for part in (cfg.model.video_encoder.backbone, cfg.model.text_encoder):
        part.pretrained = None  # random weights: speed only
    model = MODELS.build(cfg.model).to(device).train()
    optim = dict(cfg.optim_wrapper)
    if amp != 'none':
        optim.update(type='GuardedAmpOptimWrapper',
                     dtype='bfloat16' if amp == 'bf16' else 'float16')
    return model, build_optim_wrapper(model, optim)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    device = torch.device(('cuda' if torch.cuda.is_available() else 'cpu')
                          if args.device == 'auto' else args.device)
    cfg = Config.fromfile(args.config)
    model, wrapper = build(cfg, device, args.amp)
    video = cfg.model.video_encoder.backbone
    inputs, samples, frames = model_input_batch(cfg.model, args.batch,
                                                args.frames)
    data = dict(inputs=inputs, data_samples=samples)

    def step():
        model.train_step(data, wrapper)
        if device.type == 'cuda':
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - start) / args.steps
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    flops = counter.get_total_flops()
    where = torch.cuda.get_device_name(device) if device.type == 'cuda' \
        else f'{torch.get_num_threads()} threads'
    precision = 'fp32' if args.amp == 'none' else args.amp
    print(f'{type(model).__name__}, batch {args.batch} x {frames} frames at '
          f'{video.image_size}, {precision}, {device} ({where})')
    print(f'  step: {seconds:.3f} s, {args.batch / seconds:.2f} clips/s, '
          f'{flops / 1e12:.4g} TFLOP per step (forward + backward), '
          f'{flops / seconds / 1e12:.4g} TFLOP/s')
    peak = peak_tflops(device, args.peak_tflops)
    if peak:
        print(f'  MFU: {100 * flops / seconds / 1e12 / peak:.4g} % of '
              f'{peak:g} TFLOP/s peak')
    else:
        print('  MFU: n/a (no known peak for this device; --peak-tflops)')


if __name__ == '__main__':
    main()
