"""Gallery video features on disk: encode a folder once, then only what
changed.

Letters: G gallery videos, D joint width, Lv video-side tokens.
"""
import hashlib
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log

CACHE_VERSION = 2  # 2: RetrievalFeatures names


def model_fingerprint(model: torch.nn.Module, *extra: str) -> str:
    """sha1 of every parameter and buffer (names and bytes) and of
    ``extra`` strings (the pipeline and the objects source): features
    cached under one fingerprint are those this model computes."""
    digest = hashlib.sha1()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(
            torch.uint8).numpy().tobytes())
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()


def file_key(path: str) -> Dict[str, int]:
    """What says a file changed: its size and modification time."""
    stat = os.stat(path)
    return dict(size=stat.st_size, mtime_ns=stat.st_mtime_ns)


class VideoFeatureCache:
    """Per-video features keyed by absolute path, size and mtime, valid for
    one model fingerprint.

    The file is a ``torch.save`` of tensors, strings and ints only (read
    back with ``weights_only=True``) and is written atomically (a temporary
    file renamed), so a killed run never leaves a broken cache.

    Args:
        path (str, optional): The cache file; None keeps it in memory.
        fingerprint (str): :func:`model_fingerprint` of the encoder.
    """

    def __init__(self, path: Optional[str], fingerprint: str) -> None:
        self.path, self.fingerprint = path, fingerprint
        self.entries: Dict[str, dict] = {}
        self.shared: Dict = {}  # video_types, cls_index
        if path and osp.isfile(path):
            self._load()

    def _load(self) -> None:
        data = torch.load(self.path, map_location='cpu', weights_only=True)
        if data.get('version') != CACHE_VERSION or \
                data.get('fingerprint') != self.fingerprint:
            print_log(f'{self.path}: made by other weights, pipeline or '
                      'objects; every video is encoded again',
                      logger='current', level=30)
            return
        self.entries, self.shared = data['entries'], data['shared']

    def save(self) -> None:
        if not self.path:
            return
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        tmp = f'{self.path}.tmp{os.getpid()}'
        torch.save(dict(version=CACHE_VERSION, fingerprint=self.fingerprint,
                        entries=self.entries, shared=self.shared), tmp)
        os.replace(tmp, self.path)

    def sync(self, paths: Sequence[str]) -> List[str]:
        """Drop entries of files not in ``paths`` (removed from the
        gallery) and return the paths to encode: new or changed files."""
        wanted = {osp.abspath(p) for p in paths}
        for path in [p for p in self.entries if p not in wanted]:
            del self.entries[path]
        todo = []
        for path in paths:
            entry = self.entries.get(osp.abspath(path))
            if entry is None or {k: entry[k] for k in ('size', 'mtime_ns')} \
                    != file_key(path):
                todo.append(path)
        return todo

    def put(self, path: str, features: Dict[str, torch.Tensor]) -> None:
        self.entries[osp.abspath(path)] = dict(file_key(path),
                                               features=features)

    def stacked(self, paths: Sequence[str]) -> Dict[str, torch.Tensor]:
        """``{key: (G, ...)}`` features of ``paths`` in order, plus the
        shared entries."""
        rows = [self.entries[osp.abspath(p)]['features'] for p in paths]
        out = {key: torch.stack([row[key] for row in rows])
               for key in rows[0]} if rows else {}
        out.update(self.shared)
        return out
