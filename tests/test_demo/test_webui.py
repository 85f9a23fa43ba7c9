"""demo/webui.py served as a user serves it (a subprocess on a free local
port) and driven through its API with gradio_client, on tiny seeded
random-weight checkpoints of the demo configs."""
import csv
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys
import time

import pytest
import torch

from stoavlp.apis import VideoCaptionInferencer, init_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'stoavlp', 'demo')
CONFIGS = dict(
    caption=osp.join(DEMO, 'stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py'),
    qa=osp.join(DEMO, 'stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py'),
    retrieval=osp.join(DEMO,
                       'stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py'))
GALLERY_SIZE, TOPK = 4, 3
HAVE_GRADIO = all(importlib.util.find_spec(name) is not None
                  for name in ('gradio', 'gradio_client'))
# CI (tools/run_tests.sh) installs the web demo and sets this: no skipping
REQUIRED = os.environ.get('STOAVLP_REQUIRE_WEBUI') == '1'

needs_gradio = pytest.mark.skipif(
    not HAVE_GRADIO and not REQUIRED,
    reason='gradio/gradio_client not installed (pip install -e .[webui])')


def demo_test_videos(demo_root):
    with open(osp.join(demo_root, 'MSRVTT_JSFUSION_test.csv')) as f:
        ids = [row['video_id'] for row in csv.DictReader(f)]
    return [osp.join(demo_root, 'videos', f'{v}.mp4') for v in ids]


def qa_config(demo_root, path):
    """The demo QA config with a class per distinct training answer of the
    test session's demo data, written to ``path``."""
    from mmengine.config import Config

    from stoavlp.datasets.answer_vocab import build_answer_vocab
    num_answers = len(build_answer_vocab(
        osp.join(demo_root, 'msrvtt_qa', 'train_qa.json'), 10**6))
    cfg = Config.fromfile(CONFIGS['qa'])
    cfg.model.qa_head.num_classes = num_answers
    for name in ('train_dataloader', 'test_dataloader'):
        cfg[name].dataset.answer_vocab.size = num_answers
    cfg.dump(path)
    return path


def train_dataset_meta(config, demo_root):
    """The metainfo of the config's training dataset on the demo data (QA:
    the answer names), what the Runner saves as ``meta.dataset_meta``."""
    from mmengine.config import Config

    from stoavlp.registry import DATASETS
    cfg = Config.fromfile(config)
    cfg.train_dataloader.dataset.data_root = demo_root
    return DATASETS.build(cfg.train_dataloader.dataset).metainfo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def served(tmp_path_factory, demo_root):
    """The web demo with all three tabs: its client, the checkpoints, the
    demo test videos (the first ``GALLERY_SIZE`` are the gallery). The QA
    model has a class per distinct training answer of the test session's
    demo data (fewer than the full demo's, which the config counts), and
    its checkpoint carries their names as the Runner saves them (the
    training dataset's metainfo, ``meta.dataset_meta``); the server runs
    where ``data/demo`` is the demo data, as the configs' paths say."""
    assert HAVE_GRADIO, ('STOAVLP_REQUIRE_WEBUI=1 but gradio/gradio_client '
                         'are not installed (requirements/webui.txt)')
    work = tmp_path_factory.mktemp('webui')
    os.makedirs(work / 'data')
    os.symlink(demo_root, work / 'data' / 'demo')
    configs = dict(CONFIGS, qa=qa_config(demo_root, str(work / 'qa.py')))
    ckpts = {}
    for seed, (task, config) in enumerate(configs.items()):
        torch.manual_seed(seed)
        model = init_model(config)
        ckpts[task] = str(work / f'{task}.pth')
        ckpt = {'state_dict': model.state_dict()}
        if task == 'qa':
            ckpt['meta'] = dict(dataset_meta=train_dataset_meta(config,
                                                                demo_root))
        torch.save(ckpt, ckpts[task])
    videos = demo_test_videos(demo_root)
    gallery = work / 'gallery'
    gallery.mkdir()
    for video in videos[:GALLERY_SIZE]:
        os.symlink(video, gallery / osp.basename(video))
    port = free_port()
    cmd = [sys.executable, osp.join(ROOT, 'demo', 'webui.py'),
           '--caption', CONFIGS['caption'], ckpts['caption'],
           '--qa', configs['qa'], ckpts['qa'],
           '--retrieval', CONFIGS['retrieval'], ckpts['retrieval'],
           '--gallery', str(gallery), '--cache', str(work / 'cache.pt'),
           '--objects-dir', osp.join(demo_root, 'objects'),
           '--host', '127.0.0.1', '--port', str(port)]
    # uploads and gallery frames under the test's folder, not /tmp/gradio
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED='False',
               GRADIO_TEMP_DIR=str(work / 'gradio'),
               NO_PROXY='127.0.0.1,localhost', no_proxy='127.0.0.1,localhost')
    log_path = str(work / 'server.log')
    # append mode: the server's writes never depend on where we read
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(cmd, cwd=str(work), env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        client = wait_for(proc, f'http://127.0.0.1:{port}/', log_path)
        yield dict(client=client, ckpts=ckpts, videos=videos)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(proc, url, log_path, timeout=120):
    """A gradio_client.Client of the server once it answers; its log in
    the failure when it exits or never answers."""
    from gradio_client import Client

    def output():
        with open(log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f'demo/webui.py exited ({proc.returncode}):\n'
                        f'{output()[-4000:]}')
        if 'serving' in output():
            try:
                return Client(url, verbose=False, analytics_enabled=False,
                              download_files=False)
            except Exception:  # noqa: BLE001 (not listening yet)
                pass
        time.sleep(0.5)
    pytest.fail(f'demo/webui.py did not answer in {timeout} s:\n'
                f'{output()[-4000:]}')


@pytest.mark.slow
@needs_gradio
def test_caption_is_the_inferencers(served, demo_root):
    from gradio_client import handle_file
    # an upload from outside the gallery (a training clip)
    video = next(osp.join(demo_root, 'videos', name) for name in sorted(
        os.listdir(osp.join(demo_root, 'videos')))
        if osp.join(demo_root, 'videos', name) not in served['videos'])
    caption = served['client'].predict(handle_file(video),
                                       api_name='/caption')
    expected = VideoCaptionInferencer(
        init_model(CONFIGS['caption'], served['ckpts']['caption']),
        objects_dir=osp.join(demo_root, 'objects'), show_progress=False)(
            video)['predictions'][0]['caption']
    # equal only if the upload found its detection file by its name (the
    # objects change this model's caption)
    assert isinstance(caption, str) and caption == expected


@pytest.mark.slow
@needs_gradio
def test_an_unusable_upload_is_an_error_in_the_page(served, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    video = tmp_path / 'no_objects.mp4'  # no detection file of that name
    os.symlink(served['videos'][0], video)
    with pytest.raises(AppError, match='no detection file'):
        served['client'].predict(handle_file(str(video)),
                                 api_name='/caption')


@pytest.mark.slow
@needs_gradio
def test_qa_answers_with_scores(served):
    from gradio_client import handle_file
    answer, scores = served['client'].predict(
        handle_file(served['videos'][0]), 'what is bouncing?', api_name='/qa')
    assert isinstance(answer, str) and answer
    # gr.Label: the most probable answers, the top one first
    assert scores['label'] == answer
    assert answer in [c['label'] for c in scores['confidences']]


@pytest.mark.slow
@needs_gradio
def test_search_shows_k_frames_with_scores(served):
    client = served['client']
    results = client.predict('a pink triangle is bouncing', TOPK,
                             api_name='/search')
    assert len(results) == TOPK
    gallery = {osp.basename(v) for v in served['videos'][:GALLERY_SIZE]}
    scores = []
    for place, item in enumerate(results, 1):
        rank, name, score = item['caption'].split()
        assert rank == f'#{place}' and name in gallery
        assert item['image'] is not None  # the middle frame
        scores.append(float(score))
    assert len(scores) == TOPK
    status = client.predict(api_name='/rescan')
    assert f'{GALLERY_SIZE} videos, 0 encoded' in status  # all cached


def test_a_task_is_required(capsys):  # no gradio needed to parse
    spec = importlib.util.spec_from_file_location(
        'webui_demo', osp.join(ROOT, 'demo', 'webui.py'))
    webui = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(webui)
    with pytest.raises(SystemExit):
        webui.parse_args(['--gallery', 'videos'])
    assert 'at least one of' in capsys.readouterr().err
