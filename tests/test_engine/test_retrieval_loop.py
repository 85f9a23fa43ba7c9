"""RetrievalLoop's merging of per-rank features (sampler padding)."""
import torch

from stoavlp.engine.runner import merge_features


def batch(sample_idx, texts_per_video):
    """Features whose values encode where they came from: video = its
    sample index, text = 10 * sample index + its position in the batch."""
    owner = [i for i, n in enumerate(texts_per_video) for _ in range(n)]
    return dict(
        sample_idx=torch.tensor(sample_idx),
        video_embed=torch.tensor(sample_idx, dtype=torch.float)[:, None],
        text_embed=torch.tensor([[sample_idx[o] * 10 + j] for j, o in
                                 enumerate(owner)], dtype=torch.float),
        text_keep=torch.ones(len(owner), 2, dtype=torch.bool),
        text_eot=torch.ones(len(owner), dtype=torch.long),
        text_owner=torch.tensor(owner))


def test_merge_orders_videos_and_drops_sampler_padding():
    # 5 videos on 2 ranks: DistributedSampler pads rank 1 with video 0
    rank0 = [batch([0, 2], [2, 1]), batch([4], [1])]
    rank1 = [batch([1, 3], [1, 2]), batch([0], [2])]  # 0: padding
    merged = merge_features([rank0, rank1], size=5)
    assert merged['video_embed'].flatten().tolist() == [0, 1, 2, 3, 4]
    assert merged['text_to_video'].tolist() == [0, 0, 1, 2, 3, 3, 4]
    # the texts of video 0 come once, from its first occurrence
    assert merged['text_embed'].flatten().tolist() == [0, 1, 10, 22, 31, 32,
                                                       40]
    assert 'video_tokens' not in merged  # no VTM features were cached
