"""The tar shard layout of :class:`VideoTextShardDataset` (webdataset style).

A shard folder holds ``shard-000000.tar``, ``shard-000001.tar``, ... and an
``index.json``. Each sample is three consecutive tar members sharing a key
(the webdataset convention: the name up to the first dot)::

    000000017.json      {"video_id", "texts": [...], "text_tags": [...],
                         "clip_start", "clip_end", "source"}
    000000017.mp4       the (compressed) video, any container decoders read
    000000017.det.npz   its detections (optional; detection_files.py's npz)

``text_tags`` holds, per text, the ``[start, end, "NOUN"|"VERB"]`` spans
that ``SpacyPOSTagger`` gives (precomputed by ``make_shards.py``, so
training runs no spaCy), and the index names the tagger's model.

``index.json`` lists every finished shard with its number of samples and,
per sample, its number of texts: readers split epochs across ranks and
workers from the index alone, without opening a tar. Shards are written to
a temporary name and renamed, and the index is rewritten after each one, so
an interrupted writer resumes after its last finished shard.
"""
import json
import os
import os.path as osp
import tarfile
from typing import Dict, List, Optional, Tuple

FORMAT = 'stoavlp-shards-1'
INDEX = 'index.json'


class ShardError(ValueError):
    """A malformed shard or index; names the file (and sample)."""


def shard_name(idx: int) -> str:
    return f'shard-{idx:06d}.tar'


def read_index(root: str) -> dict:
    """The index of the shard folder ``root``, checked."""
    path = osp.join(root, INDEX)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'No shard index {path}: write shards with '
            'tools/data/make_shards.py')
    with open(path, encoding='utf-8') as f:
        try:
            index = json.load(f)
        except json.JSONDecodeError as e:
            raise ShardError(f'{path}: not valid JSON ({e})') from e
    if index.get('format') != FORMAT:
        raise ShardError(f'{path}: format {index.get("format")!r}, expected '
                         f'{FORMAT!r}')
    for shard in index['shards']:
        if len(shard['texts']) != shard['num_samples']:
            raise ShardError(f'{path}: {shard["name"]} lists '
                             f'{len(shard["texts"])} text counts for '
                             f'{shard["num_samples"]} samples')
    return index


def write_index(root: str, index: dict) -> None:
    """Rewrite ``index.json`` atomically."""
    path = osp.join(root, INDEX)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(index, f, separators=(',', ':'))
    os.replace(tmp, path)


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def sample_key(name: str) -> Tuple[str, str]:
    """``('000017', 'det.npz')`` for ``'000017.det.npz'``."""
    base = osp.basename(name)
    key, _, ext = base.partition('.')
    return key, ext


def scan_shard(path: str) -> List[Tuple[str, Dict[str, Tuple[int, int]]]]:
    """``[(key, {ext: (data offset, size)})]`` of a shard, in tar order.

    Reads only the tar headers (``tarfile`` seeks over member data), so
    scanning a 1 GB shard costs a few thousand small reads.
    """
    samples: List[Tuple[str, Dict[str, Tuple[int, int]]]] = []
    try:
        with tarfile.open(path, 'r:') as tar:
            for member in tar:
                if not member.isfile():
                    continue
                key, ext = sample_key(member.name)
                if not samples or samples[-1][0] != key:
                    samples.append((key, {}))
                samples[-1][1][ext] = (member.offset_data, member.size)
    except tarfile.TarError as e:
        raise ShardError(f'{path}: not a readable tar ({e})') from e
    return samples


def video_member(members: Dict[str, Tuple[int, int]]) -> Optional[str]:
    """The extension of a sample's video member (not json / det.*)."""
    for ext in members:
        if ext != 'json' and not ext.startswith('det.'):
            return ext
    return None
