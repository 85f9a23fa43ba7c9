"""Video captioning: video -> caption."""
from typing import Optional

from .base import BaseVideoInferencer


class VideoCaptionInferencer(BaseVideoInferencer):
    """Caption videos with a ``STOAVLPCaptioner``.

    Decoding options default to the model's ``decode_cfg``; a call may
    override them (``decode_cfg=dict(num_beams=3)``), validated as the
    config's are.

    Examples:
        >>> from stoavlp.apis import VideoCaptionInferencer
        >>> captioner = VideoCaptionInferencer(CONFIG, CHECKPOINT)
        >>> captioner('a.mp4')['predictions'][0]['caption']

    See :class:`BaseVideoInferencer` for inputs, objects and errors.
    """
    forward_kwargs = {'decode_cfg'}

    def _check_model(self) -> None:
        if not hasattr(self.model, 'generate'):
            raise TypeError(f'{type(self.model).__name__} is not a '
                            'captioning model (STOAVLPCaptioner)')

    def forward(self, batch: dict, decode_cfg: Optional[dict] = None
                ) -> list:
        return super().forward(batch, **(decode_cfg or {}))

    def pred_to_dict(self, sample) -> dict:
        return dict(video=sample.filename, caption=sample.pred_caption)
