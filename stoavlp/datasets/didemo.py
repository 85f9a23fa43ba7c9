"""DiDeMo paragraph-to-video retrieval."""
from collections import OrderedDict
from typing import List, Optional

from stoavlp.registry import DATASETS
from .base import (AnnotationError, BaseVideoTextDataset, caption_items,
                   read_json, read_lines, require_keys)


@DATASETS.register_module()
class DiDeMoRetrievalDataset(BaseVideoTextDataset):
    """DiDeMo as paragraph-to-video retrieval.

    ``{train,val,test}_data.json`` lists ``{video, times, description}``
    moments; all descriptions of a video, in file order, joined by spaces
    form its paragraph (the CLIP4Clip/official protocol), so every item is
    one video with one paragraph.

    Args:
        ann_file (str): ``*_data.json``.
        list_file (str, optional): ``*_list.txt``; when given, only these
            videos are used.
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str, list_file: Optional[str] = None,
                 **kwargs) -> None:
        self.list_file = list_file
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        content = read_json(self.ann_file)
        if not isinstance(content, list):
            raise AnnotationError(self.ann_file, 'top level',
                                  'expected a list of moments')
        keep = set(read_lines(self.resolve(self.list_file))) \
            if self.list_file else None
        paragraphs = OrderedDict()
        for i, moment in enumerate(content):
            require_keys(moment, ['video', 'description'], self.ann_file,
                         f'entry {i}')
            video = str(moment['video'])
            if keep is None or video in keep:
                paragraphs.setdefault(video, []).append(
                    str(moment['description']).strip())
        return caption_items(self, [(video.rsplit('.', 1)[0], video,
                                     [' '.join(sentences)])
                                    for video, sentences in paragraphs.items()])
