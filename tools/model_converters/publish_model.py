"""Keep a training checkpoint's weights only, loadable anywhere with
``torch.load(weights_only=True)`` (mmaction2's ``publish_model.py``).

    python tools/model_converters/publish_model.py IN.pth OUT.pth [--no-hash]

Drops the optimizer, the parameter schedulers and the message hub (numpy RNG
state, log buffers: what makes a training checkpoint need full unpickling),
keeps ``state_dict`` and plain ``meta`` (epoch, iteration, versions, the
config text), writes atomically and, like mmaction2, appends the first 8
hex digits of the file's sha256 to the name (``OUT-1a2b3c4d.pth``). The
input is a checkpoint of this project's own runs, so it is unpickled in
full (``stoavlp.compat.trusted_checkpoints``).
"""
import argparse
import hashlib
import os
import os.path as osp

import torch

KEPT_META = ('epoch', 'iter', 'mmengine_version', 'stoavlp_version', 'cfg',
             'seed', 'experiment_name', 'time',
             'dataset_meta')  # class names, e.g. the QA answers


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help='training checkpoint (.pth)')
    parser.add_argument('out_file', help='weights-only checkpoint (.pth)')
    parser.add_argument('--no-hash', action='store_true',
                        help='do not append the sha256 prefix to the name')
    return parser.parse_args(argv)


def _plain(value):
    """True for values a weights-only unpickler reads."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def publish(in_file, out_file, add_hash=True):
    """Write the weights of ``in_file`` to ``out_file``; returns the final
    path."""
    from stoavlp.compat import trusted_checkpoints
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint not found: {in_file}')
    with trusted_checkpoints():
        from mmengine.runner.checkpoint import _load_checkpoint
        checkpoint = _load_checkpoint(in_file, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'{in_file}: state_dict holds non-tensors')
    meta = {k: v for k, v in (checkpoint.get('meta') or {}).items()
            if k in KEPT_META and _plain(v)}
    meta['published_from'] = osp.basename(in_file)
    out = {'state_dict': state, 'meta': meta}
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = f'{out_file}.tmp{os.getpid()}'
    torch.save(out, tmp)
    if add_hash:
        with open(tmp, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()[:8]
        stem = out_file[:-4] if out_file.endswith('.pth') else out_file
        out_file = f'{stem}-{sha}.pth'
    os.replace(tmp, out_file)
    return out_file


def main(argv=None):
    args = parse_args(argv)
    out = publish(args.in_file, args.out_file, add_hash=not args.no_hash)
    size = osp.getsize(out) / 2**20
    print(f'{out} ({size:.1f} MiB): state_dict and meta only, loads with '
          'torch.load(weights_only=True)')


if __name__ == '__main__':
    main()
