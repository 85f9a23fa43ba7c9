"""An MMEngine file backend over bytes already in memory.

mmaction2's readers (``DecordInit``, ``PyAVInit``) fetch a video's bytes
through an MMEngine file backend named by ``io_backend``. A sample read
from a tar shard is already in memory, so :class:`VideoTextShardDataset`
publishes its bytes under the sample's name with :func:`hold` and routes the
readers to this backend: the unchanged pipeline decodes them without a
temporary file.

The store is per process (each dataloader worker fills its own) and holds
one sample at a time per name.
"""
import contextlib
from typing import Dict, Iterator

from mmengine.fileio import FileClient, register_backend
from mmengine.fileio.backends import BaseStorageBackend

BACKEND = 'stoavlp_memory'
_FILES: Dict[str, bytes] = {}


class InMemoryBackend(BaseStorageBackend):
    """``get(name)`` returns the bytes :func:`hold` published as ``name``."""

    def __init__(self, **kwargs):  # file-client arguments are ignored
        pass

    def get(self, filepath, *args, **kwargs) -> bytes:
        try:
            return _FILES[str(filepath)]
        except KeyError:
            raise FileNotFoundError(
                f'{filepath} is not held in memory: readers with '
                f'io_backend={BACKEND!r} only read samples that '
                'VideoTextShardDataset is decoding') from None

    def get_text(self, filepath, encoding='utf-8', *args, **kwargs) -> str:
        return self.get(filepath).decode(encoding)


FileClient.register_backend(BACKEND, InMemoryBackend, force=True)
register_backend(BACKEND, InMemoryBackend, force=True)


@contextlib.contextmanager
def hold(name: str, data: bytes) -> Iterator[str]:
    """Publish ``data`` as ``name`` for the duration of the block."""
    _FILES[name] = data
    try:
        yield name
    finally:
        _FILES.pop(name, None)
