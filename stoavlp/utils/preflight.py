"""Checks a tool runs on its config before it builds anything.

Building a model and its datasets takes seconds to minutes; a missing
checkpoint or an inconsistent dataloader setting should be said before that,
naming the file or the config key.
"""
import logging
import os.path as osp
from typing import Optional

from mmengine.logging import print_log

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _is_local(path: str) -> bool:
    return '://' not in path


def check_file(path: Optional[str], what: str) -> None:
    """Raise ``FileNotFoundError`` naming ``what`` when a local ``path`` is
    given and missing (remote URIs are left to their backends)."""
    if path and _is_local(str(path)) and not osp.isfile(
            osp.expanduser(str(path))):
        raise FileNotFoundError(f'{what} not found: {path}')


def preflight(cfg, checkpoint: Optional[str] = None) -> None:
    """Check ``cfg`` (in place) before a runner is built.

    - ``checkpoint`` (tools/test.py's argument), ``load_from`` and a
      ``--resume`` file must exist.
    - A dataloader with ``num_workers=0`` cannot keep persistent workers
      (PyTorch raises a bare ``ValueError``): ``persistent_workers`` is set
      to False, with a warning that names the key.
    """
    check_file(checkpoint, 'checkpoint')
    if cfg.get('load_from'):
        what = 'resume checkpoint' if cfg.get('resume') else 'load_from'
        check_file(cfg.load_from, what)
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        if loader.get('num_workers', 0) == 0 and loader.get(
                'persistent_workers', False):
            loader['persistent_workers'] = False
            print_log(
                f'{key}.num_workers=0 cannot keep persistent workers: '
                f'{key}.persistent_workers set to False', logger='current',
                level=logging.WARNING)
