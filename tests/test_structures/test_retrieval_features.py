"""RetrievalFeatures: merging per-batch features of several ranks."""
import torch

from stoavlp.structures import RetrievalFeatures


def batch(sample_idx, texts_per_video):
    """Values encode their origin: video = its sample index, text = 10 *
    sample index + its position in the batch."""
    owner = [i for i, n in enumerate(texts_per_video) for _ in range(n)]
    return RetrievalFeatures(
        sample_idx=torch.tensor(sample_idx),
        video_embed=torch.tensor(sample_idx, dtype=torch.float)[:, None],
        text_embed=torch.tensor([[sample_idx[o] * 10 + j] for j, o in
                                 enumerate(owner)], dtype=torch.float),
        attention_mask=torch.ones(len(owner), 2, dtype=torch.bool),
        eot_index=torch.ones(len(owner), dtype=torch.long),
        text_to_video=torch.tensor(owner))


def test_merge_orders_videos_and_drops_sampler_padding():
    # 5 videos on 2 ranks: DistributedSampler pads rank 1 with video 0
    parts = [batch([0, 2], [2, 1]), batch([4], [1]),
             batch([1, 3], [1, 2]), batch([0], [2])]  # last: padding
    merged = RetrievalFeatures.merge(parts, size=5)
    assert merged.video_embed.flatten().tolist() == [0, 1, 2, 3, 4]
    assert merged.sample_idx.tolist() == [0, 1, 2, 3, 4]
    assert merged.text_to_video.tolist() == [0, 0, 1, 2, 3, 3, 4]
    # the texts of video 0 come once, from its first occurrence
    assert merged.text_embed.flatten().tolist() == [0, 1, 10, 22, 31, 32,
                                                    40]
    assert merged.eot_index.tolist() == [1] * 7
    assert merged.video_tokens is None and not merged.can_fuse
    assert 'video_tokens' not in merged.to_dict()  # no VTM features cached


def test_with_texts_and_dict_round_trip():
    videos = batch([0, 1], [1, 1])
    texts = RetrievalFeatures(text_embed=torch.ones(3, 1),
                              attention_mask=torch.ones(3, 2).bool(),
                              eot_index=torch.zeros(3, dtype=torch.long))
    both = videos.with_texts(texts)
    assert both.num_videos == 2 and both.num_texts == 3
    assert both.text_to_video is None  # free queries: no ground truth
    again = RetrievalFeatures.from_dict(both.to_dict())
    assert torch.equal(again.text_embed, texts.text_embed)
    assert set(videos.video_rows()) == {'video_embed'}
    try:
        RetrievalFeatures.from_dict(dict(video_keep=torch.ones(1)))
    except KeyError as err:
        assert 'video_keep' in str(err)
    else:
        raise AssertionError('an unknown field must be refused')
