"""A picture of the validation metrics at the end of every run."""
import os.path as osp
from typing import Sequence

from mmengine.dist import master_only
from mmengine.hooks import Hook

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class MetricCurvesHook(Hook):
    """After a run, draw the validation metrics it logged, per epoch.

    Reads this run's ``<log_dir>/vis_data/scalars.json`` and plots the keys
    that start with one of ``prefixes`` (the mechanism metrics of
    :class:`~stoavlp.evaluation.PretrainMechanismMetric` by default), one
    panel per family, chance levels dashed
    (:func:`stoavlp.visualization.curves.plot_metrics`). A failure to draw
    is a warning, never a failed run.

    Args:
        out_file (str): PNG path; relative paths are under the work dir.
            Defaults to ``'metrics.png'``.
        prefixes (Sequence[str]): Defaults to the mechanism families.
    """

    priority = 'VERY_LOW'

    def __init__(self, out_file: str = 'metrics.png',
                 prefixes: Sequence[str] = ('ota/', 'asp/', 'vtm/', 'mc/',
                                            'probe/')) -> None:
        self.out_file = out_file
        self.prefixes = tuple(prefixes)

    @master_only
    def after_run(self, runner) -> None:
        from stoavlp.visualization.curves import plot_metrics, read_scalars
        path = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
        out = self.out_file if osp.isabs(self.out_file) else osp.join(
            runner.work_dir, self.out_file)
        try:
            metrics = read_scalars(path, self.prefixes) \
                if osp.isfile(path) else {}
            if not metrics:
                runner.logger.info(f'MetricCurvesHook: no {self.prefixes} '
                                   f'metrics in {path}')
                return
            plot_metrics(metrics, out, title=osp.basename(runner.work_dir))
            runner.logger.info(f'Metric curves: {out}')
        except Exception as err:  # noqa: BLE001 (a picture never fails a run)
            runner.logger.warning(f'MetricCurvesHook could not draw {out}: '
                                  f'{type(err).__name__}: {err}')
