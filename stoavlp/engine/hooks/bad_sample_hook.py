"""Per-epoch report of the bad samples a training run skipped."""
from typing import Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.hooks import Hook

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Count, per epoch, the bad samples the training dataset replaced.

    The datasets put the files they skipped in the replacement sample's
    ``bad_samples`` metainfo, so the count is right whatever the number of
    dataloader workers; it is summed across ranks at the end of each epoch
    and logged with the first few paths; the total is kept in the message
    hub as ``bad_samples_last_epoch``.

    Args:
        max_listed (int): How many skipped paths to list per epoch.
            Defaults to 10.
    """

    priority = 'LOW'

    def __init__(self, max_listed: int = 10) -> None:
        self.max_listed = max_listed
        self._count = 0
        self._listed = []

    def before_train_epoch(self, runner) -> None:
        self._count = 0
        self._listed = []

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        for skipped in _skipped_in(data_batch):
            self._count += 1
            if len(self._listed) < self.max_listed:
                self._listed.append(skipped)

    def after_train_epoch(self, runner) -> None:
        total = torch.tensor(float(self._count))
        if get_dist_info()[1] > 1:
            all_reduce(total)
        total = int(total.item())
        epoch = runner.epoch + 1  # the loop increments after this hook
        runner.message_hub.update_info('bad_samples_last_epoch', total)
        if total == 0:
            runner.logger.info(
                f'Epoch {epoch}: no bad samples skipped.')
            return
        listed = '; '.join(f'{s["path"]} ({s["reason"]})'
                           for s in self._listed)
        runner.logger.warning(
            f'Epoch {epoch}: skipped {total} bad sample(s) '
            f'(replaced by other samples). This rank saw: {listed}')


def _skipped_in(data_batch) -> Sequence[dict]:
    if not isinstance(data_batch, dict):  # e.g. a custom collate
        return []
    skipped = []
    for sample in data_batch.get('data_samples') or []:
        skipped.extend(getattr(sample, 'metainfo', {}).get('bad_samples', []))
    return skipped
