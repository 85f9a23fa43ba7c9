"""The demo/ scripts and tools/misc/extract_features.py, run as a user
runs them (their ``main``), on tiny seeded checkpoints."""
import os
import os.path as osp

import numpy as np
import torch
from apis_helpers import (CONFIGS, demo_test_videos, first_test_item,
                          load_tool, model_of, num_answers)
from PIL import Image


def test_caption_video_prints_captions_and_draws(checkpoints, demo_root,
                                                 tmp_path, capsys):
    videos = demo_test_videos(demo_root, 2)
    out = str(tmp_path / 'caption.png')
    preds = load_tool('demo', 'caption_video.py').main([
        CONFIGS['caption'], checkpoints['caption'], *videos,
        '--objects-dir', osp.join(demo_root, 'objects'), '--out', out])
    printed = capsys.readouterr().out
    for video, pred in zip(videos, preds):
        assert f'{video}: {pred["caption"]}' in printed
    assert Image.open(out).size[0] > 112  # frames, boxes and the caption


def test_video_qa_prints_the_answer_and_its_scores(checkpoints, demo_root,
                                                   capsys):
    video = demo_test_videos(demo_root, 1)[0]
    pred = load_tool('demo', 'video_qa.py').main([
        CONFIGS['qa'], checkpoints['qa'], video, 'what is bouncing?',
        '--topk', '2', '--cfg-options',
        f'model.qa_head.num_classes={num_answers(demo_root)}'])
    printed = capsys.readouterr().out
    assert f'A: {pred["answer"]}' in printed and len(pred['scores']) == 2


def test_search_videos_second_call_reuses_the_cache(checkpoints, demo_root,
                                                    tmp_path, capsys):
    gallery = tmp_path / 'gallery'
    gallery.mkdir()
    for video in demo_test_videos(demo_root, 4):
        os.symlink(video, gallery / osp.basename(video))
    tool = load_tool('demo', 'search_videos.py')
    args = [CONFIGS['retrieval'], checkpoints['retrieval'], '--gallery',
            str(gallery), '--query', 'a pink triangle is bouncing',
            '--topk', '3', '--objects-dir', osp.join(demo_root, 'objects')]
    first = tool.main(args + ['--out', str(tmp_path / 'sheet.png')])
    assert '4 videos, 4 encoded now' in capsys.readouterr().out
    assert osp.isfile(gallery / '.stoavlp_features.pt')
    second = tool.main(args)
    assert '4 videos, 0 encoded now' in capsys.readouterr().out
    assert first == second and len(first[0]['videos']) == 3
    assert Image.open(tmp_path / 'sheet.png').size[1] > 3 * 112


def test_extract_features_of_a_dataset_and_of_a_folder(checkpoints, demo_root,
                                                       tmp_path):
    from mmengine.config import Config
    config = Config.fromfile(CONFIGS['retrieval'])
    config.test_dataloader.dataset.data_root = demo_root
    dataset_config = str(tmp_path / 'dataset.py')
    config.dump(dataset_config)
    tool = load_tool('tools', 'misc', 'extract_features.py')
    out = tool.main([CONFIGS['retrieval'], checkpoints['retrieval'],
                     '--dataset-config', dataset_config,
                     '--out', str(tmp_path / 'set.npz')])
    saved = np.load(tmp_path / 'set.npz')
    ids = list(saved['video_ids'])
    assert ids == [osp.splitext(osp.basename(v))[0]
                   for v in demo_test_videos(demo_root)]
    assert saved['text_ids'][0] == f'{ids[0]}#0'
    assert len(saved['texts']) == len(saved['text_embed']) == \
        len(saved['text_to_video'])
    # a video's embedding is the model's for that clip
    model = model_of('retrieval', checkpoints, demo_root)
    _, data = first_test_item(model, config, demo_root)
    with torch.no_grad():
        embed = model.video_features(data['inputs'], data['data_samples'])
    np.testing.assert_allclose(saved['video_embed'][0],
                               embed.video_embed[0].numpy(), rtol=1e-5,
                               atol=1e-6)
    # a folder of videos plus query texts
    texts = tmp_path / 'texts.txt'
    texts.write_text('a red circle\n\na blue square\n')
    folder = tool.main([CONFIGS['retrieval'], checkpoints['retrieval'],
                        '--videos', osp.join(demo_root, 'videos'),
                        '--texts', str(texts), '--out',
                        str(tmp_path / 'folder.npz')])
    assert len(folder['video_ids']) == 24 and list(folder['texts']) == [
        'a red circle', 'a blue square']
    np.testing.assert_allclose(np.linalg.norm(folder['text_embed'], axis=1),
                               1, rtol=1e-5)
    assert out['video_embed'].shape[1] == folder['video_embed'].shape[1]
