"""Per-epoch report of the bad samples a training run skipped."""
import json
import os.path as osp
from collections import OrderedDict
from typing import Optional, Sequence

import torch
from mmengine.dist import all_gather_object, all_reduce, get_dist_info
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Count, per epoch, the bad samples the training dataset replaced.

    The datasets put the files they skipped in the replacement sample's
    ``bad_samples`` metainfo, so the count is right whatever the number of
    dataloader workers. At the end of each epoch the skips (one file is
    skipped again each time it is drawn) and the distinct bad files are
    gathered from all ranks and reported separately: the log names the
    first ``max_listed`` files with their skip counts, and the full list is
    written to ``<work_dir>/bad_samples_epoch_<N>.json`` (``[{path, reason,
    skips}]``, most skipped first; an empty list for a clean epoch). The
    message hub keeps ``bad_samples_last_epoch`` (skips) and
    ``bad_files_last_epoch`` (distinct files).

    Args:
        max_listed (int): How many distinct files the log lists per epoch.
            Defaults to 10.
    """

    priority = 'LOW'

    def __init__(self, max_listed: int = 10) -> None:
        self.max_listed = max_listed
        self._count = 0
        self._files = OrderedDict()  # path -> [reason, skips] on this rank

    def before_train_epoch(self, runner) -> None:
        self._count = 0
        self._files = OrderedDict()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        for skipped in _skipped_in(data_batch):
            self._count += 1
            entry = self._files.setdefault(skipped['path'],
                                           [skipped['reason'], 0])
            entry[1] += 1

    def after_train_epoch(self, runner) -> None:
        total = torch.tensor(float(self._count))
        files = dict(self._files)
        if get_dist_info()[1] > 1:
            all_reduce(total)
            merged = OrderedDict()
            for rank_files in all_gather_object(files):
                for path, (reason, skips) in rank_files.items():
                    merged.setdefault(path, [reason, 0])[1] += skips
            files = merged
        total = int(total.item())
        epoch = runner.epoch + 1  # the loop increments after this hook
        runner.message_hub.update_info('bad_samples_last_epoch', total)
        runner.message_hub.update_info('bad_files_last_epoch', len(files))
        ranked = sorted(files.items(), key=lambda item: -item[1][1])
        out = osp.join(runner.work_dir, f'bad_samples_epoch_{epoch}.json')
        if is_main_process():
            with open(out, 'w', encoding='utf-8') as f:
                json.dump([dict(path=p, reason=r, skips=n)
                           for p, (r, n) in ranked], f, indent=1)
        if total == 0:
            runner.logger.info(f'Epoch {epoch}: no bad samples skipped.')
            return
        listed = '; '.join(f'{p} ({r}) x{n}'
                           for p, (r, n) in ranked[:self.max_listed])
        more = len(ranked) - self.max_listed
        runner.logger.warning(
            f'Epoch {epoch}: skipped {total} sample(s) from {len(files)} '
            f'distinct bad file(s) (replaced by other samples): {listed}'
            + (f'; and {more} more' if more > 0 else '') +
            f'. Full list: {out}')


def _skipped_in(data_batch) -> Sequence[dict]:
    if not isinstance(data_batch, dict):  # e.g. a custom collate
        return []
    skipped = []
    for sample in data_batch.get('data_samples') or []:
        skipped.extend(getattr(sample, 'metainfo', {}).get('bad_samples', []))
    return skipped
