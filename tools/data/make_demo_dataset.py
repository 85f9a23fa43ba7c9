"""Generate the embedded demo dataset (synthetic shape clips).

Writes short mp4 clips of coloured shapes doing actions, with per-frame
detections, paraphrased captions, QA pairs and multiple-choice items, in the
file layouts of MSR-VTT (CLIP4Clip), MSRVTT-QA/MC, WebVid, MSVD, LSMDC and
DiDeMo, so the configs under ``configs/_base_/datasets/demo/`` read it.
Deterministic for a seed; skips the work when ``--out`` already holds a
complete dataset made with the same parameters (``--force`` regenerates).

Example::

    python tools/data/make_demo_dataset.py --out data/demo --num-clips 320
"""
import argparse
import os
import os.path as osp
import sys

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

LAYOUT = """\
  videos/videoN.mp4            H.264 clips, {frames} frames {w}x{h} @ {fps} fps
  objects/videoN.json          detections (extended JSON, every frame)
  gt_boxes/videoN.json         exact boxes + visibility per object and frame
  MSRVTT_data.json, MSRVTT_train.9k.csv, MSRVTT_train.7k.csv,
  MSRVTT_JSFUSION_test.csv     MSR-VTT (CLIP4Clip layout)
  msrvtt_qa/{{train,val,test}}_qa.json, msrvtt_mc/msrvtt_mc_{{test,val,train}}.json
  webvid/demo_train.csv        WebVid-2M csv (empty page_dir)
  msvd/                        lists, raw-captions.json, youtube_mapping.txt,
                               msvd_qa/
  lsmdc/                       LSMDC16 tsv files
  didemo/                      lists and *_data.json
  meta.json                    parameters, vocabularies, every clip's spec
  contact_sheet.png            first clips with their detections"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--out', default='data/demo', help='output folder')
    parser.add_argument('--num-clips', type=int, default=320,
                        help='number of clips')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--num-frames', type=int, default=32,
                        help='frames per clip')
    parser.add_argument('--size', type=int, nargs=2, default=[160, 120],
                        metavar=('W', 'H'), help='frame size (even)')
    parser.add_argument('--fps', type=int, default=10, help='frame rate')
    parser.add_argument('--num-captions', type=int, default=6,
                        help='paraphrases per clip')
    parser.add_argument('--group-size', type=int, default=4,
                        help='clips per group (base + one-change variants)')
    parser.add_argument('--workers', type=int,
                        default=min(2, os.cpu_count() or 1),
                        help='processes rendering/encoding clips')
    parser.add_argument('--no-sheet', action='store_true',
                        help='do not write contact_sheet.png')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if an identical dataset exists')
    args = parser.parse_args(argv)
    if args.size[0] % 2 or args.size[1] % 2 or min(args.size) < 16:
        parser.error(f'--size must be even and >= 16, got {args.size}')
    if args.num_clips < 1 or args.num_frames < 2:
        parser.error('--num-clips must be >= 1 and --num-frames >= 2')
    return args


def main(argv=None):
    args = parse_args(argv)
    from stoavlp.datasets.demo import make_demo_dataset
    w, h = args.size
    result = make_demo_dataset(
        args.out, num_clips=args.num_clips, seed=args.seed,
        num_frames=args.num_frames, size=(w, h), fps=args.fps,
        num_captions=args.num_captions, group_size=args.group_size,
        contact_sheet=not args.no_sheet, workers=args.workers,
        force=args.force, progress=True)
    out = osp.abspath(result['out_dir'])
    splits = ', '.join(f'{k} {v}' for k, v in result['splits'].items())
    if result['skipped']:
        print(f'{out} already holds this demo dataset ({splits}); nothing to '
              'do (use --force to regenerate).')
        return result
    print(f'Wrote {args.num_clips} clips ({splits}) to {out} in '
          f"{result['seconds']:.1f} s:")
    print(LAYOUT.format(frames=args.num_frames, w=w, h=h, fps=args.fps))
    if not args.no_sheet:
        print(f"Look at {osp.join(out, 'contact_sheet.png')}")
    return result


if __name__ == '__main__':
    main()
