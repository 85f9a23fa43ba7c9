"""Search a folder of your own videos with a text query.

    python demo/search_videos.py CONFIG CHECKPOINT --gallery DIR
        --query "a red circle is moving left" [--query ...] [--topk 5]
        [--cache FILE] [--out sheet.png]
        [--detector DET_CONFIG DET_CKPT | --objects-dir DIR]

The first call encodes every video of the gallery (progress bar) into a
feature cache (default ``DIR/.stoavlp_features.pt``); later calls encode only
new or changed videos and drop removed ones, so a query over a cached
gallery takes milliseconds. Ranking is evaluation's: cosine similarity, the
top ``rerank_topk`` re-scored by the VTM head. ``--out`` draws a sheet: one
row per result with three of its frames and its score.
"""
import math
import os.path as osp
import sys
import time

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    from stoavlp.apis.cli import inference_parser
    parser = inference_parser(__doc__)
    parser.add_argument('--gallery', required=True, help='folder of videos')
    parser.add_argument('--query', action='append', required=True,
                        help='query text (repeat for several)')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--cache', help='feature cache file')
    parser.add_argument('--out', help='sheet of the first query (PNG)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--workers', type=int, default=0,
                        help='processes decoding videos while encoding')
    return parser.parse_args(argv)


def draw_results(pred: dict, out: str, num_frames: int = 3) -> None:
    """One row per result: frames of the video, rank, score and name."""
    from stoavlp.visualization import make_contact_sheet
    from stoavlp.visualization.loading import video_frames
    rows = [dict(frames=video_frames(path, num_frames),
                 text=f'#{place} {osp.basename(path)}  score {score:.4f}')
            for place, (path, score) in enumerate(
                zip(pred['videos'], pred['scores']), 1)]
    h, w = rows[0]['frames'][0].shape[:2]
    scale = max(1, math.ceil(160 / min(h, w)))
    make_contact_sheet(rows, out, frame_size=(w * scale, h * scale),
                       title=f'query: "{pred["query"]}"')


def main(argv=None) -> list:
    from stoavlp.apis import TextToVideoRetrievalInferencer
    from stoavlp.apis.cli import inferencer_kwargs, load_model
    args = parse_args(argv)
    cache = args.cache or osp.join(args.gallery, '.stoavlp_features.pt')
    start = time.time()
    search = TextToVideoRetrievalInferencer(
        load_model(args), gallery=args.gallery, cache=cache,
        batch_size=args.batch_size, num_workers=args.workers,
        **inferencer_kwargs(args))
    print(f'gallery: {len(search.gallery)} videos, {search.num_encoded} '
          f'encoded now ({time.time() - start:.1f} s), cache {cache}')
    for path, err in search.errors.items():
        print(f'  left out {path}: {err}')
    start = time.time()
    preds = search(args.query, topk=args.topk)['predictions']
    print(f'{len(preds)} queries ranked in {1000 * (time.time() - start):.0f}'
          ' ms')
    for pred in preds:
        print(f'query: {pred["query"]}')
        for place, (path, score) in enumerate(
                zip(pred['videos'], pred['scores']), 1):
            print(f'  #{place} {score:8.4f}  {path}')
    if args.out:
        draw_results(preds[0], args.out)
        print(f'picture: {args.out}')
    return preds


if __name__ == '__main__':
    main()
