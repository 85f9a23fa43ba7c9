"""The one place where stoavlp patches third-party packages.

Applied once by ``import stoavlp``; every fix is idempotent and documented
here rather than scattered over the code base.

1. **mmengine checkpoint loading on torch >= 2.6.**
   ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, while
   mmengine 0.10.7 training checkpoints pickle ``HistoryBuffer`` objects and
   numpy arrays (``load_checkpoint``/``resume`` fail with ``UnpicklingError:
   Weights only load failed``). Allow-listing those types is not an option:
   mmengine checkpoints also need ``builtins.getattr``, which would make the
   "safe" unpickler unsafe.

   **Trust boundary (decided here, once):**

   - By default every local file given to MMEngine's loader (``load_from``,
     ``init_cfg=dict(type='Pretrained')``, ``load_checkpoint``) is read with
     ``weights_only=True``, also in an mmaction2/mmdet job that imports
     stoavlp through ``custom_imports``. A file that needs more (an MMEngine
     training checkpoint: message hub, numpy RNG state) is refused with an
     error that says how to proceed.
   - Full unpickling (``weights_only=False``) happens only inside
     :func:`trusted_checkpoints`, which the project's own tools enter to load
     the training state of its own runs: ``tools/train.py`` (``--resume``,
     ``load_from``), ``tools/test.py``, the visualisation tools and the
     ablation study. Nothing else enters it.
   - External weights (OpenAI CLIP, HF CLIP directories, the official
     STOA-VLP release) are only read by :func:`load_external_checkpoint`,
     which always uses ``weights_only=True``. Never route a downloaded file
     through ``load_from``; convert it first.
   - ``tools/model_converters/publish_model.py`` writes a training
     checkpoint's weights alone, loadable with ``weights_only=True``
     anywhere (e.g. by an mmaction2 project).

2. **mmaction2 1.2.0 packaging.** The wheel lacks
   ``mmaction/models/localizers/drn/`` (``import mmaction.models`` fails
   with ``No module named 'mmaction.models.localizers.drn'``). We register
   an importable stand-in whose ``DRN`` raises a clear error when built.
   Its VindLU code also imports ``apply_chunking_to_forward``,
   ``find_pruneable_heads_and_indices`` and ``prune_linear_layer`` from
   ``transformers.modeling_utils`` (moved to ``transformers.pytorch_utils``);
   a meta-path hook re-exports them the moment ``mmaction.models`` is first
   imported, so ``import stoavlp`` itself stays cheap.

3. **Checkpoints survive a kill.** mmengine's ``LocalBackend.put`` writes
   checkpoints in place, so a run killed while saving leaves a truncated
   file that ``--resume auto`` then fails to load. ``put`` now writes a
   temporary file in the same folder and renames it (atomic on POSIX), and
   the ``find_latest_checkpoint`` that ``--resume auto`` uses falls back to
   the newest of the runner's own ``epoch_N``/``iter_N.pth`` when the
   ``last_checkpoint`` pointer is empty, truncated or stale (never a
   ``best_*.pth`` or a converted file). A failed save removes its temporary
   file; those of killed processes are removed when resuming.

4. **Distributed runs on CPUs (gloo).** mmengine's PyTorch launcher calls
   ``torch.cuda.set_device`` unconditionally and its DDP wrapper passes
   ``device_ids=[local_rank]``, both of which fail without a GPU. Without
   CUDA the process group is initialised directly (``gloo``; ``nccl`` gets a
   clear error) and DDP gets ``device_ids=None``, as PyTorch requires for
   CPU modules. ``tools/dist_train.sh`` then works with
   ``env_cfg.dist_cfg.backend=gloo`` on any machine.

5. **mmcv-lite's import warning.** With mmcv-lite (no compiled ops; all
   stoavlp needs outside the mmdet detector) every import of
   ``mmcv.cnn.bricks.transformer`` warns "Fail to import
   MultiScaleDeformableAttention", in every tool. stoavlp never uses that
   op, so the warning is filtered, except when ``STOAVLP_REQUIRE_MMCV_FULL=1``
   (the environment where full mmcv is required and its absence matters).
"""
import contextlib
import importlib.abc
import os
import os.path as osp
import pickle
import re
import sys
import types

import torch

_APPLIED = False

_DRN_PKG = 'mmaction.models.localizers.drn'


def load_external_checkpoint(path, map_location='cpu'):
    """Load third-party weights safely (``weights_only=True``).

    Args:
        path (str): A ``.pt``/``.pth``/``.bin`` file holding tensors.
        map_location (str | torch.device): Defaults to ``'cpu'``.

    Returns:
        Any: The deserialised object (normally a state dict).
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    return torch.load(path, map_location=map_location, weights_only=True)


_TRUSTED_DEPTH = 0  # nesting depth of trusted_checkpoints()


@contextlib.contextmanager
def trusted_checkpoints():
    """Within this context, local checkpoints given to MMEngine's loader are
    unpickled in full: for the training state of the project's own runs
    (see the module docstring for who enters it)."""
    global _TRUSTED_DEPTH
    _TRUSTED_DEPTH += 1
    try:
        yield
    finally:
        _TRUSTED_DEPTH -= 1


def _load_local_checkpoint(filename, map_location=None):
    """mmengine's local-file scheme: weights only, unless trusted."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if _TRUSTED_DEPTH:
        # the project's own training state (optimizer, message hub, numpy
        # RNG): trusted, see the module docstring
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            needs = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
        except Exception:  # noqa: BLE001 (only for the message)
            needs = []
        raise pickle.UnpicklingError(
            f'{filename} holds more than weights ({", ".join(needs[:6])}); '
            'stoavlp reads checkpoints with weights_only=True outside its '
            'own tools. A training checkpoint of your own stoavlp runs: load '
            'it with tools/train.py / tools/test.py, or in code inside '
            '`with stoavlp.compat.trusted_checkpoints():`. To use it '
            'anywhere else, keep its weights only: python '
            'tools/model_converters/publish_model.py IN.pth OUT.pth') from err


def _atomic_put(self, obj: bytes, filepath) -> None:
    """``LocalBackend.put`` that never leaves a partly written file."""
    filepath = str(filepath)
    os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
    tmp = f'{filepath}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:  # disk full, interrupted: no half file left
        if osp.exists(tmp):
            os.remove(tmp)
        raise


# the checkpoints a runner writes itself: the only ones ``--resume auto``
# may fall back to (not ``best_*.pth``, converted or downloaded files)
_OWN_CHECKPOINT = re.compile(r'^(epoch|iter)_\d+\.pth$')
_TMP_FILE = re.compile(r'\.tmp(\d+)$')


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _remove_stale_tmp_files(path: str) -> None:
    """Temporary files of saves whose process died (killed mid-write)."""
    for name in os.listdir(path):
        match = _TMP_FILE.search(name)
        if match and not _pid_alive(int(match.group(1))):
            try:
                os.remove(osp.join(path, name))
            except OSError:
                pass


def _find_latest_checkpoint(path: str):
    """``last_checkpoint`` if it names a file, else the newest of the
    runner's own ``epoch_N.pth``/``iter_N.pth``; stale temporary files of
    interrupted saves are removed on the way."""
    from mmengine.runner.checkpoint import \
        find_latest_checkpoint as from_pointer
    if not osp.isdir(path):
        return None
    _remove_stale_tmp_files(path)
    last = from_pointer(path)
    if last and osp.isfile(last):
        return last
    candidates = [osp.join(path, f) for f in os.listdir(path)
                  if _OWN_CHECKPOINT.match(f)]
    return max(candidates, key=osp.getmtime) if candidates else None


def _patch_mmengine_checkpoint_saving():
    import mmengine.runner.runner as runner_module
    from mmengine.fileio.backends.local_backend import LocalBackend
    LocalBackend.put = _atomic_put
    runner_module.find_latest_checkpoint = _find_latest_checkpoint


def _patch_mmengine_cpu_distributed():
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    gpu_init = dist_utils._init_dist_pytorch
    if getattr(gpu_init, '_stoavlp', False):
        return

    def init_dist_pytorch(backend='nccl', init_backend='torch', **kwargs):
        if torch.cuda.is_available():
            return gpu_init(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            raise RuntimeError(
                'No GPU: NCCL cannot run; use env_cfg=dict(dist_cfg=dict('
                'backend="gloo")) for distributed training on CPUs')
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._stoavlp = True
    dist_utils._init_dist_pytorch = init_dist_pytorch

    gpu_ddp_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
        if not torch.cuda.is_available():
            kwargs['device_ids'] = None  # CPU modules take no device ids
        gpu_ddp_init(self, module, detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init


def _patch_mmengine_checkpoint_loader():
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_local_checkpoint, force=True)


class _MissingDRN:
    """Stand-in for the DRN localizer missing from the mmaction2 wheel."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'mmaction2 1.2.0 ships without mmaction/models/localizers/drn; '
            'DRN is unavailable (stoavlp registered this stand-in only so '
            'that `import mmaction.models` works).')


def _stub_mmaction_drn():
    if _DRN_PKG in sys.modules:
        return
    try:
        import importlib.util
        if importlib.util.find_spec('mmaction') is None:
            return
        spec = importlib.util.find_spec('mmaction.models.localizers')
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            if osp.isdir(osp.join(loc, 'drn')):
                return  # a complete mmaction2 install: nothing to fix
    pkg = types.ModuleType(_DRN_PKG)
    pkg.__path__ = []
    mod = types.ModuleType(_DRN_PKG + '.drn')
    mod.DRN = _MissingDRN
    pkg.drn = mod
    sys.modules[_DRN_PKG] = pkg
    sys.modules[_DRN_PKG + '.drn'] = mod


def _reexport_transformers_helpers():
    try:
        import transformers.modeling_utils as modeling_utils
        import transformers.pytorch_utils as pytorch_utils
    except ImportError:
        return
    for name in ('apply_chunking_to_forward',
                 'find_pruneable_heads_and_indices', 'prune_linear_layer'):
        if not hasattr(modeling_utils, name) and hasattr(pytorch_utils, name):
            setattr(modeling_utils, name, getattr(pytorch_utils, name))


class _MMActionModelsHook(importlib.abc.MetaPathFinder):
    """Applies the transformers re-export right before mmaction.models."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == 'mmaction.models':
            sys.meta_path.remove(self)
            _reexport_transformers_helpers()
        return None  # let the regular finders import the module


def _silence_mmcv_lite_warning():
    if os.environ.get('STOAVLP_REQUIRE_MMCV_FULL') == '1':
        return
    import warnings
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``',
        category=UserWarning)


def apply():
    """Apply every fix once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    _silence_mmcv_lite_warning()
    _patch_mmengine_checkpoint_loader()
    _patch_mmengine_checkpoint_saving()
    _patch_mmengine_cpu_distributed()
    _stub_mmaction_drn()
    if 'mmaction.models' in sys.modules:
        _reexport_transformers_helpers()
    elif not any(isinstance(f, _MMActionModelsHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _MMActionModelsHook())
