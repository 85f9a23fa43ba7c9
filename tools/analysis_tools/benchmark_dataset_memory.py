"""Memory and load time of a large video-caption table, side by side.

Writes N synthetic WebVid-style rows (``videoid, contentUrl, duration,
page_dir, name``) as csv and parquet, then builds in a fresh process each:

- ``compact csv`` / ``compact parquet``: :class:`VideoTextDataset` (the
  WebVid preset), rows in packed columns;
- ``mmengine list``: the same items as MMEngine's plain list of dicts
  (``serialize_data=False``; what WebVidDataset was before);
- ``mmengine serialized``: that list pickled into one buffer
  (``serialize_data=True``, MMEngine's default).

Reported per variant: RSS growth once built (steady, after ``gc``), peak
RSS growth while building, load time, and the ratios to the compact csv
dataset; ``held MiB`` is the size of the arrays holding the items (RSS
also keeps memory the allocator did not give back). RSS is measured over
the process after imports::

    python tools/analysis_tools/benchmark_dataset_memory.py --rows 1000000
"""
import argparse
import csv
import gc
import json
import os
import os.path as osp
import random
import resource
import subprocess
import sys
import tempfile
import time

from tqdm import tqdm

WORDS = ('a man woman dog cat car boat city street beach forest mountain '
         'river sunset aerial view of the slow motion close up young old '
         'walking running driving flying over through with and on in at '
         'red blue green white black beautiful background footage').split()
VARIANTS = ('compact csv', 'compact parquet', 'mmengine list',
            'mmengine serialized')


def write_tables(folder: str, rows: int, seed: int = 0):
    """``webvid.csv`` and ``webvid.parquet`` with ``rows`` synthetic rows."""
    rng = random.Random(seed)
    path = osp.join(folder, 'webvid.csv')
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['videoid', 'contentUrl', 'duration', 'page_dir',
                         'name'])
        for i in tqdm(range(rows), desc='Writing csv', mininterval=5):
            videoid = str(1_000_000 + rng.randrange(10**9))
            page = f'{i // 50 * 50 + 1:06d}_{i // 50 * 50 + 50:06d}'
            name = ' '.join(rng.choice(WORDS)
                            for _ in range(rng.randint(6, 16)))
            writer.writerow([
                videoid, f'https://example.invalid/videos/{page}/'
                f'{videoid}.mp4', f'PT00H00M{rng.randint(5, 59):02d}S',
                page, name])
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    pq.write_table(pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={'videoid': 'string'})), osp.join(folder,
                                                       'webvid.parquet'))
    return path


def rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def held_bytes(dataset):
    """Bytes of the arrays holding the items (None: Python objects)."""
    table = getattr(dataset, '_table', None)
    if table is not None:
        arrays = [getattr(table, k) for k in ('start', 'end', 'cap_ends',
                                              'caption_record')]
        for name in ('videos', 'video_ids', 'objects', 'captions'):
            column = getattr(table, name)
            if column is not None:
                arrays += [column.data, column.ends]
        return sum(a.nbytes for a in arrays if a is not None)
    if dataset.serialize_data:
        return dataset.data_bytes.nbytes + dataset.data_address.nbytes
    return None


def build(variant: str, folder: str) -> dict:
    """Build one variant in this process; RSS figures in MiB."""
    from stoavlp.datasets import WebVidDataset
    from stoavlp.datasets.base import BaseVideoTextDataset, read_csv
    from stoavlp.utils import register_all_modules
    register_all_modules()

    class ListWebVid(BaseVideoTextDataset):
        """WebVidDataset as it was: one make_item dict per row."""

        def load_data_list(self):
            items = []
            for _, row in read_csv(self.ann_file,
                                   ['videoid', 'name', 'page_dir']):
                name = f'{row["page_dir"]}/{row["videoid"]}'.lstrip('/')
                items.append(self.make_item(row['videoid'], row['name'],
                                            name))
            return items

    if variant == 'compact parquet':
        import pyarrow.parquet  # noqa: F401  (imports are not the table)
    gc.collect()
    base = rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    kwargs = dict(data_root=folder,
                  data_prefix=dict(video='videos', objects='objects'))
    start = time.perf_counter()
    if variant.startswith('compact'):
        ext = variant.split()[1]
        dataset = WebVidDataset(ann_file=f'webvid.{ext}', **kwargs)
    else:
        dataset = ListWebVid(ann_file='webvid.csv', serialize_data=variant
                             == 'mmengine serialized', **kwargs)
    seconds = time.perf_counter() - start
    gc.collect()
    steady = rss_bytes() - base
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
               peak_before) - base
    held = held_bytes(dataset)
    probe = [dataset.get_data_info(i) for i in (0, len(dataset) - 1)]
    for item in probe:
        item.pop('sample_idx')
    return dict(variant=variant, items=len(dataset), seconds=seconds,
                steady_mib=steady / 2**20, peak_mib=peak / 2**20,
                held_mib=None if held is None else held / 2**20,
                probe=probe)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--work-dir', help='where the tables go (default: '
                        'a temporary folder)')
    parser.add_argument('--variant', help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(build(args.variant, args.work_dir)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.work_dir or tmp
        os.makedirs(folder, exist_ok=True)
        write_tables(folder, args.rows)
        results = []
        for variant in VARIANTS:  # a fresh process each: clean peak RSS
            out = subprocess.run(
                [sys.executable, __file__, '--variant', variant,
                 '--work-dir', folder], check=True, capture_output=True,
                text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    probes = {json.dumps(r['probe'], sort_keys=True) for r in results}
    assert len(probes) == 1, 'the variants give different items'
    ref = results[0]
    print(f'{args.rows} WebVid-style rows ({ref["items"]} items); RSS '
          'growth over the process after imports')
    print(f'{"variant":<22}{"steady MiB":>11}{"peak MiB":>10}{"load s":>8}'
          f'{"steady x":>10}{"peak x":>8}{"B/row":>7}{"held MiB":>10}')
    for r in results:
        held = '-' if r['held_mib'] is None else f'{r["held_mib"]:.1f}'
        print(f'{r["variant"]:<22}{r["steady_mib"]:>11.1f}'
              f'{r["peak_mib"]:>10.1f}{r["seconds"]:>8.1f}'
              f'{r["steady_mib"] / ref["steady_mib"]:>10.2f}'
              f'{r["peak_mib"] / ref["peak_mib"]:>8.2f}'
              f'{r["steady_mib"] * 2**20 / args.rows:>7.0f}{held:>10}')
    return results


if __name__ == '__main__':
    main()
