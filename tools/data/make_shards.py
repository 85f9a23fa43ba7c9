"""Write a training set as webdataset-style tar shards.

Reads the items of any stoavlp dataset config (``train_dataloader.dataset``
of a dataset or training config: the custom corpus, WebVid, MSR-VTT ...)
and writes, per video, its (compressed) clip, captions, detections and the
noun/verb tags of its captions, precomputed with the pipeline's spaCy
tagger (layout: :mod:`stoavlp.datasets.shard_format`). Train on them with
``VideoTextShardDataset`` (see docs/data_preparation.md).

Example::

    python tools/data/make_shards.py \\
        configs/_base_/datasets/demo/webvid_pretrain.py data/demo/shards \\
        --samples-per-shard 1000 --max-shard-size 1GB

Consecutive items of one video (its captions, as the file datasets list
them) become one sample with several texts. Shards hold at most
``--samples-per-shard`` samples and ``--max-shard-size`` bytes. Resumable:
each shard is written under a temporary name and renamed, the index is
rewritten after every shard, and a rerun continues after the last finished
shard (same config, same options). A video or detection file that cannot be
read is logged, counted and listed in ``OUT/failed.txt``; its sample is
left out. ``--skip-missing-objects`` writes samples without detections
where the file is missing (``LoadObjectDetections(on_missing=...)``
decides at training time).
"""
import argparse
import json
import os
import os.path as osp
import sys
import tarfile
import tempfile
import time
from typing import Dict, Iterator, List, Optional

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from mmengine.config import Config, DictAction  # noqa: E402
from tqdm import tqdm  # noqa: E402

from stoavlp.datasets.detection_files import (  # noqa: E402
    DetectionFileError, read_detections, write_detections)
from stoavlp.datasets.shard_format import (FORMAT, add_member,  # noqa: E402
                                           read_index, shard_name,
                                           write_index)
from stoavlp.registry import DATASETS, TOKENIZERS  # noqa: E402

_UNITS = {'KB': 1e3, 'MB': 1e6, 'GB': 1e9, 'TB': 1e12}


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for unit, factor in _UNITS.items():
        if text.endswith(unit):
            return int(float(text[:-len(unit)]) * factor)
    return int(text)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='dataset or training config')
    parser.add_argument('out', help='shard folder')
    parser.add_argument('--samples-per-shard', type=int, default=1000)
    parser.add_argument('--max-shard-size', default='1GB',
                        help='e.g. 1GB, 500MB')
    parser.add_argument('--dataset-key', default='train_dataloader',
                        help='the dataloader whose dataset is written')
    parser.add_argument('--skip-missing-objects', action='store_true',
                        help='write samples whose detection file is missing '
                        '(without detections) instead of failing them')
    parser.add_argument('--no-tags', action='store_true',
                        help='do not precompute noun/verb tags')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def build_items(cfg: Config, key: str):
    """The dataset (no pipeline) and its tagger config (from TokenizeText)."""
    dataset_cfg = cfg[key]['dataset'].copy()
    pipeline = dataset_cfg.get('pipeline', [])
    dataset_cfg['pipeline'] = []
    tagger_cfg = dict(type='SpacyPOSTagger')
    for step in pipeline:
        if isinstance(step, dict) and step.get('type') == 'TokenizeText':
            tagger_cfg = step.get('pos_tagger', tagger_cfg)
            if tagger_cfg == 'default':
                tagger_cfg = dict(type='SpacyPOSTagger')
    dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    return dataset, tagger_cfg


def group_videos(dataset) -> Iterator[dict]:
    """One record per run of consecutive items of the same video clip."""
    current: Optional[dict] = None
    for i in range(len(dataset)):
        item = dataset.get_data_info(i)
        texts = item['text'] if isinstance(item['text'], list) else \
            [item['text']]
        clip = (item['filename'], item.get('clip_start'),
                item.get('clip_end'))
        if current is not None and current['clip'] == clip:
            current['texts'].extend(texts)
            continue
        if current is not None:
            yield current
        current = dict(clip=clip, video_id=str(item['video_id']),
                       filename=item['filename'],
                       objects_path=item.get('objects_path'),
                       clip_start=item.get('clip_start'),
                       clip_end=item.get('clip_end'), texts=list(texts))
    if current is not None:
        yield current


def npz_bytes(path: str, tmp_dir: str) -> bytes:
    """A detection file in any format, as the npz the shards store."""
    if path.endswith('.npz'):
        read_detections(path)  # validate
        with open(path, 'rb') as f:
            return f.read()
    tmp = osp.join(tmp_dir, 'det.npz')
    write_detections(tmp, read_detections(path))
    with open(tmp, 'rb') as f:
        return f.read()


class ShardWriter:
    """Fills shards in order, renaming each one when finished."""

    def __init__(self, out: str, index: dict, samples_per_shard: int,
                 max_bytes: int):
        self.out, self.index = out, index
        self.samples_per_shard, self.max_bytes = samples_per_shard, max_bytes
        self.samples: List[Dict[str, bytes]] = []
        self.texts: List[int] = []
        self.nbytes = 0

    def add(self, members: Dict[str, bytes], num_texts: int) -> None:
        size = sum(len(v) + 1024 for v in members.values())
        if self.samples and (len(self.samples) >= self.samples_per_shard
                             or self.nbytes + size > self.max_bytes):
            self.flush()
        self.samples.append(members)
        self.texts.append(num_texts)
        self.nbytes += size

    def flush(self, source_end: Optional[int] = None) -> None:
        if not self.samples:
            return
        shards = self.index['shards']
        name = shard_name(len(shards))
        path = osp.join(self.out, name)
        tmp = f'{path}.tmp{os.getpid()}'
        first = self.index['num_samples']
        with tarfile.open(tmp, 'w') as tar:
            for j, members in enumerate(self.samples):
                key = f'{first + j:09d}'
                for ext, data in members.items():
                    add_member(tar, f'{key}.{ext}', data)
        os.replace(tmp, path)
        shards.append(dict(name=name, num_samples=len(self.samples),
                           texts=self.texts, bytes=osp.getsize(path)))
        self.index['num_samples'] += len(self.samples)
        self.index['num_items'] += sum(self.texts)
        self.samples, self.texts, self.nbytes = [], [], 0

    def checkpoint(self, next_record: int) -> None:
        """Record where a rerun continues (after the last finished shard)."""
        self.index['next_record'] = next_record
        write_index(self.out, self.index)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    os.makedirs(args.out, exist_ok=True)
    dataset, tagger_cfg = build_items(cfg, args.dataset_key)
    tagger = None if args.no_tags else TOKENIZERS.build(tagger_cfg)
    options = dict(config=osp.abspath(args.config),
                   cfg_options=args.cfg_options or {},
                   dataset_key=args.dataset_key,
                   samples_per_shard=args.samples_per_shard,
                   max_shard_size=args.max_shard_size,
                   tags=not args.no_tags,
                   skip_missing_objects=args.skip_missing_objects)
    if osp.isfile(osp.join(args.out, 'index.json')):
        index = read_index(args.out)
        if index.get('options') != options:
            raise SystemExit(
                f'{args.out} holds shards written with other options '
                f'({index.get("options")}); use a new folder')
        if index.get('complete'):
            print(f'{args.out}: already complete '
                  f'({index["num_samples"]} samples)')
            return 0
    else:
        index = dict(format=FORMAT, options=options, shards=[],
                     num_samples=0, num_items=0, next_record=0,
                     pos_tagger=None if tagger is None else tagger.resolved,
                     complete=False)
    writer = ShardWriter(args.out, index, args.samples_per_shard,
                         parse_size(args.max_shard_size))
    start = index['next_record']
    failed_path = osp.join(args.out, 'failed.txt')
    failed = 0
    t0 = time.time()
    r = -1
    with tempfile.TemporaryDirectory() as tmp_dir, \
            open(failed_path, 'a', encoding='utf-8') as failed_file:
        # records are streamed (a 10M-item corpus is never held as dicts)
        for r, record in enumerate(
                tqdm(group_videos(dataset), desc='shards', unit='video')):
            if r < start:
                continue  # in a shard finished by an earlier run
            try:
                members = sample_members(record, tagger, tmp_dir,
                                         args.skip_missing_objects)
            except (OSError, DetectionFileError) as e:
                failed += 1
                failed_file.write(f'{record["filename"]}\t{e}\n')
                failed_file.flush()
                tqdm.write(f'failed: {record["filename"]}: {e}')
                continue
            before = len(index['shards'])
            writer.add(members, len(record['texts']))
            if len(index['shards']) > before:  # a shard just finished
                writer.checkpoint(r)
        writer.flush()
        index['complete'] = True
        writer.checkpoint(r + 1)
    print(f'{index["num_samples"]} samples ({index["num_items"]} texts) in '
          f'{len(index["shards"])} shards under {args.out}; {failed} failed '
          f'(listed in {failed_path}); {time.time() - t0:.1f} s')
    return 0


def sample_members(record: dict, tagger, tmp_dir: str,
                   skip_missing_objects: bool) -> Dict[str, bytes]:
    """The tar members of one video: json, video and det.npz."""
    with open(record['filename'], 'rb') as f:
        video = f.read()
    meta = dict(video_id=record['video_id'], texts=record['texts'],
                source=record['filename'])
    if tagger is not None:
        meta['text_tags'] = [[list(span) for span in spans]
                             for spans in tagger.tag_many(record['texts'])]
    for key in ('clip_start', 'clip_end'):
        if record[key] is not None:
            meta[key] = record[key]
    members = {'json': json.dumps(meta).encode('utf-8')}
    ext = osp.splitext(record['filename'])[1].lstrip('.').lower() or 'mp4'
    members[ext] = video
    objects = record.get('objects_path')
    if objects and osp.isfile(objects):
        members['det.npz'] = npz_bytes(objects, tmp_dir)
    elif objects and not skip_missing_objects:
        raise FileNotFoundError(f'detection file not found: {objects} '
                                '(--skip-missing-objects writes the sample '
                                'without detections)')
    return members


if __name__ == '__main__':
    sys.exit(main())
