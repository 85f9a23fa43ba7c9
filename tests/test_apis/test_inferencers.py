"""The inference API against the evaluation path it must equal.

Tiny demo models with random weights (seeded) saved as checkpoints: a
caption from the inferencer must be ``tools/test.py --dump``'s for the same
clip and checkpoint, a gallery ranking ``RetrievalLoop``'s, and so on.
"""
import glob
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from stoavlp.apis import (TextToVideoRetrievalInferencer,
                          VideoCaptionInferencer, VideoQAInferencer,
                          VideoTextMatchingInferencer,
                          VideoToTextRetrievalInferencer, init_model)

from apis_helpers import (CONFIGS, DEMO, demo_test_videos, first_test_item,
                          load_tool, loader_options, model_of,
                          train_dataset_meta)


def test_init_model_loads_the_checkpoint_and_resolves_model_names(
        checkpoints, demo_root):
    from stoavlp.apis import resolve_config
    model = model_of('caption', checkpoints, demo_root)
    state = torch.load(checkpoints['caption'], weights_only=True)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, state['state_dict'][name],
                                   rtol=0, atol=0)
    assert not model.training and model.cfg.model.type == 'STOAVLPCaptioner'
    cfg, weights = resolve_config(
        'stoavlp_vit-b16-u12-res224_8xb8-5e_msrvtt-9k-retrieval')
    assert cfg.model.type == 'STOAVLPRetriever' and weights is None
    with pytest.raises(FileNotFoundError, match='model-index.yml'):
        resolve_config('no_such_model')
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        init_model(CONFIGS['caption'], 'gone.pth')


def test_caption_equals_test_py_dump(checkpoints, demo_root, tmp_path):
    """Same clips, same checkpoint: the inferencer's captions are the ones
    evaluation writes."""
    dump = str(tmp_path / 'caption.pkl')
    load_tool('tools', 'test.py').main([
        CONFIGS['caption'], checkpoints['caption'], '--work-dir',
        str(tmp_path), '--dump', dump, '--cfg-options',
        *[f'{k}={v}' for k, v in loader_options(demo_root,
                                                indices=3).items()]])
    with open(dump, 'rb') as f:
        dumped = {r['video_id']: r['pred_caption'] for r in pickle.load(f)}
    assert len(dumped) == 3
    captioner = VideoCaptionInferencer(
        model_of('caption', checkpoints, demo_root),
        objects_dir=osp.join(demo_root, 'objects'), show_progress=False)
    videos = [osp.join(demo_root, 'videos', f'{v}.mp4') for v in dumped]
    preds = captioner(videos, batch_size=2)['predictions']
    assert [p['caption'] for p in preds] == list(dumped.values())
    assert all(p['caption'] for p in preds)


def test_frames_input_and_decode_options(checkpoints, demo_root):
    """Decoded frames give the caption of the file (only the decoder
    differs); a call's decoding options override the config's, checked."""
    import decord
    captioner = VideoCaptionInferencer(
        model_of('caption', checkpoints, demo_root), show_progress=False)
    video = demo_test_videos(demo_root, 1)[0]
    frames = decord.VideoReader(video).get_batch(
        list(range(len(decord.VideoReader(video))))).asnumpy()
    by_path, by_frames = captioner([video, frames])['predictions']
    assert by_path['caption'] == by_frames['caption']
    beams = captioner(video, decode_cfg=dict(num_beams=2, max_length=6))
    assert len(beams['predictions'][0]['caption'].split()) <= 6
    with pytest.raises(ValueError, match='num_beams'):
        captioner(video, decode_cfg=dict(num_beams=0))
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\) uint8'):
        captioner(frames[..., 0])


def test_bad_videos_name_themselves_and_the_rest_returns(
        checkpoints, demo_root, tmp_path, caplog_mm):
    """A corrupt file and a 3-frame clip (fewer than the 8 frames the
    sampler takes: the dataset's bad-sample policy) are errors naming
    them; the other videos of the batch still get captions."""
    import cv2
    good = demo_test_videos(demo_root, 2)
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(b'not a video' * 50)
    short = str(tmp_path / 'short.mp4')
    writer = cv2.VideoWriter(short, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (64, 48))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    captioner = VideoCaptionInferencer(
        model_of('caption', checkpoints, demo_root), show_progress=False)
    preds = captioner([good[0], str(corrupt), short, good[1]],
                      batch_size=4)['predictions']
    assert 'caption' in preds[0] and 'caption' in preds[3]
    assert preds[1]['video'] == str(corrupt) and 'DecordInit failed' in \
        preds[1]['error']
    assert 'video has 3 frames, fewer than the 8 required' in \
        preds[2]['error']
    logged = [m for m in caplog_mm() if 'skipped' in m]
    assert len(logged) == 2 and str(corrupt) in logged[0]


def test_without_objects_warns_once_and_drops_trajectories(
        checkpoints, demo_root, recwarn):
    import stoavlp.apis.inferencers.base as base
    base._NO_OBJECTS_WARNED = False
    captioner = VideoCaptionInferencer(
        model_of('caption', checkpoints, demo_root), show_progress=False)
    result = captioner(demo_test_videos(demo_root, 2), return_datasamples=True)
    said = [w for w in recwarn if 'without objects' in str(w.message)]
    assert len(said) == 1
    for sample in result['predictions']:
        assert not sample.obj_mask.any()
    with_files = VideoCaptionInferencer(
        captioner.model, objects_dir=osp.join(demo_root, 'objects'),
        show_progress=False)(demo_test_videos(demo_root, 2),
                             return_datasamples=True)
    assert all(s.obj_mask.any() for s in with_files['predictions'])


def test_gallery_ranking_equals_retrieval_loop(checkpoints, demo_root,
                                               tmp_path):
    """Text-to-video over a folder of the test videos ranks as
    ``tools/test.py`` (RetrievalLoop, VTM re-ranking) ranks the test set."""
    dump = str(tmp_path / 'retrieval.pkl')
    load_tool('tools', 'test.py').main([
        CONFIGS['retrieval'], checkpoints['retrieval'], '--work-dir',
        str(tmp_path), '--dump', dump, '--cfg-options',
        *[f'{k}={v}' for k, v in loader_options(demo_root).items()]])
    with open(dump, 'rb') as f:
        t2v = [r for r in pickle.load(f) if 't2v_rank' in r]
    gallery = tmp_path / 'gallery'
    gallery.mkdir()
    videos = demo_test_videos(demo_root)
    for video in videos:
        os.symlink(video, gallery / osp.basename(video))
    model = model_of('retrieval', checkpoints, demo_root)
    assert model.rerank_topk > 0  # the VTM re-ranking path is compared
    search = TextToVideoRetrievalInferencer(
        model, gallery=str(gallery), objects_dir=osp.join(demo_root,
                                                          'objects'),
        show_progress=False)
    preds = search([r['query_text'] for r in t2v], topk=len(videos))
    for dumped, pred in zip(t2v, preds['predictions']):
        ids = [osp.splitext(osp.basename(p))[0] for p in pred['videos']]
        k = len(dumped['topk_video_ids'])
        assert ids[:k] == dumped['topk_video_ids']
        np.testing.assert_allclose(pred['scores'][:k], dumped['topk_scores'],
                                   rtol=1e-5, atol=1e-6)


def test_gallery_cache_reuse_and_invalidation(checkpoints, demo_root,
                                              tmp_path):
    gallery = tmp_path / 'gallery'
    gallery.mkdir()
    for video in demo_test_videos(demo_root, 4):
        os.symlink(video, gallery / osp.basename(video))
    cache = str(tmp_path / 'feats.pt')
    model = model_of('retrieval', checkpoints, demo_root)

    def search():
        return TextToVideoRetrievalInferencer(
            model, gallery=str(gallery), cache=cache, show_progress=False)

    first = search()
    assert first.num_encoded == 4
    query = 'a red circle is moving left'
    again = search()
    assert again.num_encoded == 0  # nothing re-encoded
    assert again(query)['predictions'] == first(query)['predictions']
    touched = sorted(glob.glob(str(gallery / '*.mp4')))
    os.remove(touched[0])  # removed: dropped from the gallery
    link, target = touched[1], os.readlink(touched[1])
    os.remove(link)
    (gallery / osp.basename(link)).write_bytes(open(target, 'rb').read())
    third = search()
    assert third.num_encoded == 1  # the changed file only
    assert len(third.gallery) == 3 and touched[0] not in third.gallery
    torch.manual_seed(99)  # other weights: the cache is not theirs
    other = init_model(CONFIGS['retrieval'])
    fresh = TextToVideoRetrievalInferencer(other, gallery=str(gallery),
                                           cache=cache, show_progress=False)
    assert fresh.num_encoded == 3
    data = torch.load(cache, weights_only=True)
    assert len(data['entries']) == 3
    export = str(tmp_path / 'emb.npz')
    fresh.export(export)
    saved = np.load(export)
    assert saved['video_embed'].shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(saved['video_embed'], axis=1),
                               1, rtol=1e-5)


def test_matching_equals_multiple_choice_prediction(checkpoints, demo_root):
    """Scores of candidate texts are the MC evaluation's, and similarity is
    the cosine of the two embeddings."""
    model = model_of('retrieval', checkpoints, demo_root)
    item, data = first_test_item(model, osp.join(
        DEMO, 'stoavlp_tiny-u8-res112_1xb16-3e_demo-mc.py'), demo_root)
    with torch.no_grad():  # what STOAVLPMultipleChoice predicts
        expected = model.score_options(data['inputs'],
                                       data['data_samples'])[0]
    meta = item['data_samples'].metainfo
    matcher = VideoTextMatchingInferencer(
        model, objects_dir=osp.join(demo_root, 'objects'),
        show_progress=False)
    pred = matcher(meta['filename'], meta['text'])['predictions'][0]
    assert pred['best'] == expected.pred_label
    np.testing.assert_allclose(pred['scores'], expected.mc_scores.tolist(),
                               rtol=1e-5)
    video = model.video_features(data['inputs'], data['data_samples'])
    ids = item['data_samples'].token_ids
    text = model.text_features(ids, item['data_samples'].attention_mask)
    cosine = torch.nn.functional.cosine_similarity(
        video.video_embed, text.text_embed)
    np.testing.assert_allclose(pred['similarities'], cosine.tolist(),
                               rtol=1e-4, atol=1e-6)
    assert all(0 < p < 1 for p in pred['match_probs'])


def test_qa_answer_and_scores(checkpoints, demo_root):
    model = model_of('qa', checkpoints, demo_root)
    qa = VideoQAInferencer(model, objects_dir=osp.join(demo_root, 'objects'),
                           show_progress=False)
    videos = demo_test_videos(demo_root, 2)
    preds = qa(videos, ['what is moving left?', 'how many objects?'],
               num_scores=3)['predictions']
    # the answer names came with the checkpoint (the training dataset's)
    answers = model.dataset_meta['answers']
    assert list(answers) == list(train_dataset_meta('qa',
                                                    demo_root)['answers'])
    assert len(answers) == model.qa_head.num_classes
    for pred in preds:
        probs = list(pred['scores'].values())
        assert len(probs) == 3 and probs == sorted(probs, reverse=True)
        assert pred['answer'] == next(iter(pred['scores']))
        assert pred['answer'] in answers and sum(probs) <= 1 + 1e-6
    with pytest.raises(ValueError, match='2 questions for 1 videos'):
        qa(videos[:1], ['a?', 'b?'])


def test_video_to_text_ranks_a_text_gallery(checkpoints, demo_root):
    model = model_of('retrieval', checkpoints, demo_root)
    texts = ['a red circle is moving left', 'a blue square is still',
             'a green triangle is moving up']
    v2t = VideoToTextRetrievalInferencer(
        model, texts=texts, objects_dir=osp.join(demo_root, 'objects'),
        show_progress=False)
    videos = demo_test_videos(demo_root, 2)
    preds = v2t(videos + ['missing.mp4'], topk=3)['predictions']
    assert 'no such file' in preds[2]['error']
    for pred in preds[:2]:
        assert sorted(pred['text_indices']) == [0, 1, 2]
        assert pred['texts'] == [texts[i] for i in pred['text_indices']]
        assert pred['scores'] == sorted(pred['scores'], reverse=True)


def test_qa_first_token_head_answers_as_evaluation_predicts(demo_root):
    """The official first-token head (no answer names: BPE tokens of the
    whole vocabulary) answers through the inferencer what the model's
    ``predict`` gives the evaluation dataset's item of the same clip."""
    torch.manual_seed(5)
    model = init_model(CONFIGS['qa'], cfg_options={'model.qa_head': dict(
        _delete_=True, type='QAFirstTokenHead', width=64,
        lm_head=dict(type='TiedLMHead', width=64, dropout=0.0))})
    assert not model.qa_head.needs_answer_names
    item, data = first_test_item(model, CONFIGS['qa'], demo_root,
                                 answer_vocab=None)  # no classes here
    with torch.no_grad():
        expected = model.predict(data['inputs'], data['data_samples'])[0]
    meta = item['data_samples'].metainfo
    qa = VideoQAInferencer(model, objects_dir=osp.join(demo_root, 'objects'),
                           show_progress=False)
    pred = qa(meta['filename'], meta['question'],
              num_scores=4)['predictions'][0]
    assert pred['answer'] == expected.pred_answer
    top = expected.pred_score.topk(4)
    assert list(pred['scores']) == model.qa_head.label_names(top.indices)
    np.testing.assert_allclose(list(pred['scores'].values()),
                               top.values.tolist(), rtol=1e-5)
    # a token of the 49 408-entry CLIP vocabulary, not a dataset answer
    assert expected.pred_score.shape == (49408,)
