"""Caption a video with a trained stoavlp captioning model.

    python demo/caption_video.py CONFIG CHECKPOINT VIDEO [VIDEO ...]
        [--detector DET_CONFIG DET_CKPT | --objects-dir DIR]
        [--out PICTURE.png] [--num-beams 3] [--device cuda]

Prints one caption per video. ``--out`` draws the first video: its sampled
frames, the boxes coloured by trajectory, the caption. Without
``--detector`` or ``--objects-dir`` the model runs without objects (no
trajectory tokens; warned).
"""
import os.path as osp
import sys

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    from stoavlp.apis.cli import inference_parser
    parser = inference_parser(__doc__)
    parser.add_argument('videos', nargs='+', help='videos or folders')
    parser.add_argument('--out', help='picture of the first video (PNG)')
    parser.add_argument('--num-beams', type=int,
                        help="beam search width (default: the config's)")
    parser.add_argument('--batch-size', type=int, default=4)
    return parser.parse_args(argv)


def main(argv=None) -> list:
    from PIL import Image

    from stoavlp.apis import VideoCaptionInferencer
    from stoavlp.apis.cli import inferencer_kwargs, load_model
    args = parse_args(argv)
    captioner = VideoCaptionInferencer(load_model(args),
                                       **inferencer_kwargs(args))
    decode_cfg = {} if args.num_beams is None else dict(
        num_beams=args.num_beams)
    result = captioner(args.videos, batch_size=args.batch_size,
                       decode_cfg=decode_cfg, draw=bool(args.out))
    for pred in result['predictions']:
        print(f'{pred["video"]}: {pred.get("caption", pred.get("error"))}')
    if args.out and result['visualization']:
        Image.fromarray(result['visualization'][0]).save(args.out)
        print(f'picture: {args.out}')
    return result['predictions']


if __name__ == '__main__':
    main()
