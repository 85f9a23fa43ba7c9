"""Peak memory per sample of a pre-training step, with and without
activation checkpointing.

    python tools/analysis_tools/benchmark_memory.py [--batch 2] [--frames 12]

Paper dims (CLIP ViT-B/16, 12 frames at 224, all six objectives). Each
variant runs in its own process (so one's peak doesn't hide the other's):
the paper config, and its ``_with-cp`` version (video, text and fusion
encoders recompute block activations in the backward pass). On a GPU the
peak is ``torch.cuda.max_memory_allocated``; on a CPU the growth of the
process's peak resident memory over the model and optimizer alone.
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time

ROOT = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..')
CONFIGS = {
    'no checkpointing': 'configs/stoavlp/'
    'stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py',
    'activation checkpointing': 'configs/stoavlp/scaling/'
    'stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain_with-cp.py',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--frames', type=int, default=12)
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(config: str, batch: int, frames: int) -> dict:
    """One training step in this process; peak memory of the step."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from stoavlp.registry import MODELS
    from stoavlp.testing import synthetic_batch
    from stoavlp.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.video_encoder.backbone.pretrained = None
    cfg.model.text_encoder.pretrained = None
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = MODELS.build(cfg.model).to(device).train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    inputs, samples = synthetic_batch(batch, frames=frames, objects=10,
                                      classes=8, length=32, size=224)
    data = dict(inputs=inputs, data_samples=samples)
    model.train_step(data, wrapper)  # optimizer state allocated
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    else:
        base = peak_rss_mb()
    start = time.perf_counter()
    model.train_step(data, wrapper)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda' \
        else peak_rss_mb()
    return dict(step_mb=peak - base, seconds=seconds, device=device)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.batch, args.frames)))
        return
    results = {}
    for name, config in CONFIGS.items():
        out = subprocess.run(
            [sys.executable, __file__, '--worker', config, '--batch',
             str(args.batch), '--frames', str(args.frames)],
            capture_output=True, text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    device = results['no checkpointing']['device']
    print(f'training step, batch {args.batch} x {args.frames} frames at 224, '
          f'paper dims, {device}')
    for name, r in results.items():
        print(f'  {name:<26}: {r["step_mb"] / args.batch:8.0f} MB per sample '
              f'({r["seconds"]:.1f} s per step)')
    plain, cp = (results[k] for k in CONFIGS)
    print(f'  checkpointing needs {cp["step_mb"] / plain["step_mb"]:.2f}x '
          f'the memory and {cp["seconds"] / plain["seconds"]:.2f}x the time')


if __name__ == '__main__':
    main()
