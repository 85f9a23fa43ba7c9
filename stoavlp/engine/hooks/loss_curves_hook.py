"""A picture of the training losses at the end of every run."""
import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.hooks import Hook

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class LossCurvesHook(Hook):
    """After a run, plot every ``loss*`` scalar the run logged.

    Reads this run's ``<log_dir>/vis_data/scalars.json`` (written by the
    ``LocalVisBackend``), draws the curves with
    :func:`stoavlp.visualization.curves.plot_losses` (the picture of
    ``tools/analysis_tools/plot_losses.py``) and logs whether each loss
    fell. Runs on rank 0 only. A run without loss scalars (a test run, or
    no local vis backend) only gets an info line, and a failure to draw is
    a warning: a picture is never worth failing a finished run.

    Args:
        out_file (str, optional): PNG path; relative paths are under the
            work dir. Defaults to ``'losses.png'``.
        smooth (int): Moving-average window in logged points. Defaults to
            10.
    """

    priority = 'VERY_LOW'

    def __init__(self, out_file: Optional[str] = 'losses.png',
                 smooth: int = 10) -> None:
        self.out_file = out_file
        self.smooth = smooth

    @master_only
    def after_run(self, runner) -> None:
        from stoavlp.visualization.curves import (plot_losses, read_losses,
                                                  summary_lines)
        scalars = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
        if not osp.isfile(scalars):
            runner.logger.info(f'LossCurvesHook: no {scalars}, no curves.')
            return
        try:
            losses = read_losses(scalars)
            if not losses:
                runner.logger.info(
                    f'LossCurvesHook: {scalars} holds no losses.')
                return
            out = osp.join(runner.work_dir, self.out_file)
            plot_losses(losses, out, self.smooth,
                        osp.basename(osp.normpath(runner.work_dir)))
        except Exception as error:  # noqa: BLE001 (the run itself is done)
            runner.logger.warning(
                f'LossCurvesHook: could not plot {scalars}: {error!r}')
            return
        runner.logger.info('Loss curves: ' + out + '\n' +
                           '\n'.join(summary_lines(losses)))
