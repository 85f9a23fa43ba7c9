"""Trajectory encoder: packed visible tokens vs dense masked sequences.

    python tools/analysis_tools/benchmark_trajectory.py [--batch 8]

Paper dims (width 768, 12 heads, 2 layers, T=12 frames, K=10 boxes,
N=20 trajectories) with realistic occupancy: every clip has a number of
object classes and each class 3-6 boxes (at most one per frame, as the
official filter keeps). The dense reference runs N sequences of T*K+1
masked tokens per clip, as the official code; the packed encoder runs only
the trajectories that exist, each as long as its boxes. Prints both times,
the ratio (goal >= 4x) and the largest output difference.
"""
import argparse
import time

import torch

from stoavlp.models.necks import TrajectoryEncoder
from stoavlp.testing import synthetic_batch
from stoavlp.testing.references import dense_trajectory_tokens


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--classes', type=int, default=12,
                        help='object classes present per clip (<= N)')
    parser.add_argument('--repeat', type=int, default=3)
    return parser.parse_args()


def timed(fn, repeat):
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - start) / repeat, out


def main():
    args = parse_args()
    torch.manual_seed(0)
    encoder = TrajectoryEncoder(
        roi_layer=dict(type='TorchvisionRoIAlign')).eval()
    patches = torch.randn(args.batch, 12, 196, 768)
    _, samples = synthetic_batch(args.batch, frames=12, objects=10,
                                 classes=args.classes, size=224,
                                 boxes_per_class=(3, 6))
    boxes, labels, mask = (torch.stack([s.get(k) for s in samples])
                           for k in ('obj_boxes', 'obj_labels', 'obj_mask'))
    with torch.no_grad():
        out = encoder(patches, boxes, labels, mask, (224, 224))
        objects = out['object_tokens']
        t_packed, packed = timed(
            lambda: encoder(patches, boxes, labels, mask,
                            (224, 224))['trajectory_tokens'], args.repeat)
        t_dense, dense = timed(
            lambda: dense_trajectory_tokens(encoder, objects, labels, mask),
            args.repeat)
        # the packed time includes RoIAlign + box MLPs; time them alone too
        t_boxes, _ = timed(
            lambda: encoder.object_tokens(patches, boxes, mask, (224, 224)),
            args.repeat)
    per_class = mask.sum() / (args.batch * args.classes)
    print(f'batch {args.batch}, {args.classes} classes/clip, '
          f'{per_class:.1f} boxes/class, N=20, T=12, K=10, width 768 '
          f'({torch.get_num_threads()} CPU threads)')
    print(f'  boxes -> object tokens (RoIAlign, MLPs): '
          f'{t_boxes * 1000:8.1f} ms')
    print(f'  packed encoder (incl. object tokens)  : '
          f'{t_packed * 1000:8.1f} ms')
    print(f'  dense reference (trajectory layers)   : '
          f'{t_dense * 1000:8.1f} ms')
    print(f'  max |packed - dense| = {(packed - dense).abs().max():.2e}')
    print(f'  speed-up: {t_dense / t_packed:.1f}x (goal >= 4x); trajectory '
          f'layers alone {t_dense / max(t_packed - t_boxes, 1e-9):.1f}x')


if __name__ == '__main__':
    main()
