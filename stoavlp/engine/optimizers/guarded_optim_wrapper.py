"""Optimizer wrappers that skip (or stop on) a step with a non-finite loss."""
import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from stoavlp.registry import OPTIM_WRAPPERS

_POLICIES = ('skip', 'stop')


class _NonFiniteGuard:
    """``update_params`` that checks the loss before stepping.

    Every rank back-propagates (DDP's gradient all-reduce happens there, so
    no rank may leave it out), then the ranks agree: if any rank's loss is
    NaN or inf, all of them drop the gradients and either skip the step
    (``'skip'``, counted in the message hub as ``train/skipped_steps``) or
    raise (``'stop'``). The model logs which samples the bad batch held
    (``VideoTextModel`` warns with their video ids).
    """

    def _init_guard(self, nonfinite: str) -> None:
        if nonfinite not in _POLICIES:
            raise ValueError(f'nonfinite must be one of {_POLICIES}, got '
                             f'{nonfinite!r}')
        self.nonfinite = nonfinite
        self.skipped_steps = 0

    def update_params(self, loss: torch.Tensor, step_kwargs=None,
                      zero_kwargs=None) -> None:
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        bad = torch.tensor(float(not torch.isfinite(loss).all()),
                           device=loss.device)
        loss = self.scale_loss(loss)
        self.backward(loss)
        if get_dist_info()[1] > 1:
            all_reduce(bad)
        if bad.item() > 0:
            self.zero_grad(**zero_kwargs)
            step = MessageHub.get_current_instance().get_info('iter', 0)
            if self.nonfinite == 'stop':
                raise FloatingPointError(
                    f'Non-finite loss at iteration {step}; stopping (see '
                    'the warning above for the samples of the batch). Set '
                    'optim_wrapper.nonfinite="skip" to skip such steps.')
            self.skipped_steps += 1
            MessageHub.get_current_instance().update_scalar(
                'train/skipped_steps', self.skipped_steps)
            MMLogger.get_current_instance().warning(
                f'Non-finite loss at iteration {step}: step skipped '
                f'({self.skipped_steps} so far).')
            return
        if self.should_update():
            self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)


@OPTIM_WRAPPERS.register_module()
class GuardedOptimWrapper(_NonFiniteGuard, OptimWrapper):
    """``OptimWrapper`` that skips or stops on a non-finite loss.

    Args:
        nonfinite (str): ``'skip'`` or ``'stop'``. Defaults to ``'skip'``.
        **kwargs: See ``mmengine.optim.OptimWrapper``.
    """

    def __init__(self, nonfinite: str = 'skip', **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_guard(nonfinite)


@OPTIM_WRAPPERS.register_module()
class GuardedAmpOptimWrapper(_NonFiniteGuard, AmpOptimWrapper):
    """``AmpOptimWrapper`` (bf16/fp16) that skips or stops on a non-finite
    loss (fp16's loss scaler still skips steps with overflowing
    gradients on its own).

    Args:
        nonfinite (str): ``'skip'`` or ``'stop'``. Defaults to ``'skip'``.
        **kwargs: See ``mmengine.optim.AmpOptimWrapper``.
    """

    def __init__(self, nonfinite: str = 'skip', **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_guard(nonfinite)
