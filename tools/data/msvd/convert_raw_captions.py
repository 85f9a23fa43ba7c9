"""Convert CLIP4Clip's MSVD ``raw-captions.pkl`` to the JSON stoavlp reads.

    python tools/data/msvd/convert_raw_captions.py \
        data/msvd/raw-captions.pkl data/msvd/raw-captions.json

The pickle maps clip names to lists of tokenised captions (lists of words).
It is read with an unpickler that refuses every global, so only plain
dicts, lists and strings load: a tampered file fails instead of running code.
The output is ``{clip name: ["a man is ...", ...]}``.
"""
import argparse
import json
import os
import pickle


class _PlainUnpickler(pickle.Unpickler):
    """Allows only pickle's built-in containers and scalars."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(
            f'refusing to load {module}.{name}: raw-captions.pkl should hold '
            'only dicts, lists and strings')


def convert(src: str) -> dict:
    with open(src, 'rb') as f:
        captions = _PlainUnpickler(f).load()
    if not isinstance(captions, dict):
        raise ValueError(f'{src}: expected a dict of clip name -> captions, '
                         f'got {type(captions).__name__}')
    out = {}
    for clip, caps in captions.items():
        if not isinstance(caps, list):
            raise ValueError(f'{src}: captions of {clip!r} are not a list')
        out[str(clip)] = [c if isinstance(c, str) else ' '.join(c)
                          for c in caps]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='raw-captions.pkl')
    parser.add_argument('dst', help='output json')
    args = parser.parse_args(argv)
    captions = convert(args.src)
    tmp = args.dst + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(captions, f, ensure_ascii=False)
    os.replace(tmp, args.dst)
    n = sum(len(c) for c in captions.values())
    print(f'{len(captions)} clips, {n} captions -> {args.dst}')


if __name__ == '__main__':
    main()
