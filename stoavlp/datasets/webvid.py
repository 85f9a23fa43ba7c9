"""WebVid-2M/10M (pre-training video-caption pairs): a VideoTextDataset
preset."""
from stoavlp.registry import DATASETS
from .video_text import VideoTextDataset


@DATASETS.register_module()
class WebVidDataset(VideoTextDataset):
    """WebVid-2M/10M from its csv (``videoid, name, page_dir, ...``).

    :class:`VideoTextDataset` with WebVid's columns: videos are
    ``<video folder>/<page_dir>/<videoid>.mp4`` (the layout of the WebVid
    download script), detection files mirror them under the objects folder,
    ``video_id`` is ``videoid`` and ``text`` the ``name`` column. Training
    gives one item per row.

    Args:
        ann_file (str): ``results_2M_train.csv``, ``results_10M_train.csv``
            or a csv with the same columns.
        **kwargs: See :class:`VideoTextDataset` (``columns`` and
            ``video_template`` default to WebVid's).
    """

    def __init__(self, ann_file: str, **kwargs) -> None:
        kwargs.setdefault('columns', dict(video=None, video_id='videoid',
                                          caption='name'))
        kwargs.setdefault('video_template', '{page_dir}/{videoid}')
        super().__init__(ann_file=ann_file, **kwargs)
