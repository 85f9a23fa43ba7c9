"""The data sample that travels with one video-text item."""
from mmengine.structures import BaseDataElement


class VideoTextDataSample(BaseDataElement):
    """Annotations, targets and (later) predictions of one video-text item.

    Letters: T frames, K boxes per frame, C object classes of the clip,
    L text length, n texts of the item.

    Data fields (tensors, set by ``PackVideoTextInputs``):

        - token_ids: ``(L,)`` or ``(n, L)`` int64 CLIP BPE ids, 0-padded.
        - attention_mask: same shape, 1 for real tokens.
        - noun_mask, verb_mask: same shape, bool.
        - obj_boxes: ``(T, K, 4)`` float32 x1y1x2y2 pixels of the input
          frames; obj_scores ``(T, K)``; obj_labels ``(T, K)`` int64 clip-local
          class ids sorted by summed confidence (-1 = padding); obj_mask
          ``(T, K)`` bool; obj_class_conf ``(C,)`` float32 descending.
        - task targets such as ``mc_label`` (int64 scalar).

    Metainfo: ``video_id``, ``filename``, ``text``, ``obj_classes``,
    ``frame_inds``, ``img_shape``, ... and, for a sample that replaced bad
    ones, ``bad_samples`` (list of ``{'path', 'reason'}``).
    """
