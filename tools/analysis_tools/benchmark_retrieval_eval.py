"""Retrieval evaluation: chunked ranking vs the full score matrix.

    python tools/analysis_tools/benchmark_retrieval_eval.py \
        [--queries 10000] [--gallery 10000] [--dim 512] [--chunk-size 1024]

Each variant runs in its own subprocess on the same random normalised
features (one ground truth per query, the diagonal):

- full: ``scores = query @ gallery.T`` (Q x G float32, 400 MB at 10k x 10k),
  then :func:`gt_ranks` on it.
- chunked: :func:`chunked_retrieval` with ``chunk_size`` queries at a time,
  top-k candidates and a cheap monotone dummy re-ranker (``2 * s + 1``,
  which must not change any rank).

Peak memory is the child's ``ru_maxrss`` at the end minus its value once
torch is imported, the features exist and BLAS has run a warm-up product,
so it counts only what the variant itself allocated. The script prints the
best wall and CPU time of ``--repeat`` runs and the peak of each, checks
that the ranks are identical and prints the ratios.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--queries', type=int, default=10000)
    parser.add_argument('--gallery', type=int, default=10000)
    parser.add_argument('--dim', type=int, default=512)
    parser.add_argument('--chunk-size', type=int, default=1024)
    parser.add_argument('--topk', type=int, default=32)
    parser.add_argument('--repeat',
                        type=int,
                        default=3,
                        help='runs per variant; the best time is reported')
    parser.add_argument('--variant',
                        choices=['full', 'chunked'],
                        help='internal: run one variant in this process')
    parser.add_argument('--out', help='internal: where the child saves')
    return parser.parse_args()


def max_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB


def run_variant(args):
    """Child process: build features, run one variant, save ranks."""
    import time

    import torch

    from stoavlp.evaluation.functional import chunked_retrieval, gt_ranks

    gen = torch.Generator().manual_seed(0)
    query = torch.nn.functional.normalize(torch.randn(args.queries,
                                                      args.dim,
                                                      generator=gen),
                                          dim=-1)
    gallery = torch.nn.functional.normalize(torch.randn(args.gallery,
                                                        args.dim,
                                                        generator=gen),
                                            dim=-1)
    gt = torch.arange(args.queries) % args.gallery
    query[:64] @ gallery[:64].T  # warm up BLAS buffers before the baseline
    baseline = max_rss_mb()

    times, cpu_times = [], []
    for _ in range(args.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        if args.variant == 'full':
            ranks = gt_ranks(query @ gallery.T, gt)
        else:
            ranks = chunked_retrieval(
                query,
                gallery,
                gt,
                chunk_size=args.chunk_size,
                topk=args.topk,
                rerank=lambda q, g, s: 2 * s + 1)['ranks']
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    # the machine may be shared: best of the runs, and CPU time as well
    seconds, cpu_seconds = min(times), min(cpu_times)
    torch.save(ranks, args.out)
    sys.stdout.write(
        json.dumps(
            dict(seconds=seconds,
                 cpu_seconds=cpu_seconds,
                 peak_mb=max_rss_mb() - baseline,
                 baseline_mb=baseline)) + '\n')


def spawn(variant, args, out):
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--variant', variant, '--out', out,
        '--queries',
        str(args.queries), '--gallery',
        str(args.gallery), '--dim',
        str(args.dim), '--chunk-size',
        str(args.chunk_size), '--topk',
        str(args.topk), '--repeat',
        str(args.repeat)
    ]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    if args.variant:
        run_variant(args)
        return
    matrix_mb = args.queries * args.gallery * 4 / 2**20
    chunk_mb = min(args.chunk_size, args.queries) * args.gallery * 4 / 2**20
    print(f'Q={args.queries} G={args.gallery} D={args.dim}: full score '
          f'matrix {matrix_mb:.0f} MB, one chunk of {args.chunk_size} '
          f'queries {chunk_mb:.0f} MB (top-{args.topk}, dummy re-rank)')
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for variant in ('full', 'chunked'):
            out = os.path.join(tmp, f'{variant}.pt')
            results[variant] = spawn(variant, args, out)
            print(f'{variant:>8}: {results[variant]["seconds"]:6.2f} s '
                  f'({results[variant]["cpu_seconds"]:.2f} s CPU), '
                  f'peak +{results[variant]["peak_mb"]:6.0f} MB over the '
                  f'features (baseline RSS '
                  f'{results[variant]["baseline_mb"]:.0f} MB)')
        import torch  # only now, so the children's RSS is their own
        full = torch.load(os.path.join(tmp, 'full.pt'))
        chunked = torch.load(os.path.join(tmp, 'chunked.pt'))
    differ = int((full != chunked).sum())
    print(f'identical ranks: {differ == 0} ({differ} of {len(full)} differ); '
          f't2v R@1 {float((full == 1).float().mean() * 100):.2f}')
    full_r, chunk_r = results['full'], results['chunked']
    print(f'memory ratio full/chunked: '
          f'{full_r["peak_mb"] / max(chunk_r["peak_mb"], 1e-6):.1f}x, '
          f'time ratio chunked/full: '
          f'{chunk_r["seconds"] / full_r["seconds"]:.2f}x')


if __name__ == '__main__':
    main()
