"""Ask a trained stoavlp QA model a question about a video.

    python demo/video_qa.py CONFIG CHECKPOINT VIDEO "what is moving left?"
        [--detector DET_CONFIG DET_CKPT | --objects-dir DIR] [--topk 5]
        [--out PICTURE.png]

Prints the answer and the ``--topk`` most probable answers with their
probabilities (over the model's answer vocabulary, or the first BPE token
for the official first-token head).
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
    parser.add_argument('video')
    parser.add_argument('question')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--out', help='picture of the video and answer')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    from PIL import Image

    from stoavlp.apis import VideoQAInferencer
    from stoavlp.apis.cli import inferencer_kwargs, load_model
    args = parse_args(argv)
    qa = VideoQAInferencer(load_model(args), **inferencer_kwargs(args))
    result = qa(args.video, args.question, num_scores=args.topk,
                draw=bool(args.out))
    pred = result['predictions'][0]
    if 'error' in pred:
        raise SystemExit(pred['error'])
    print(f'Q: {pred["question"]}\nA: {pred["answer"]}')
    for answer, prob in pred['scores'].items():
        print(f'  {prob:6.3f}  {answer}')
    if args.out:
        Image.fromarray(result['visualization'][0]).save(args.out)
        print(f'picture: {args.out}')
    return pred


if __name__ == '__main__':
    main()
