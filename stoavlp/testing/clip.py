"""Small random CLIP models (open_clip, OpenAI layout) for tests."""


def random_open_clip(embed_dim: int, vision: dict, text: dict,
                     seed: int = 0):
    """An open_clip ``CLIP`` with QuickGELU and every parameter randomised
    (LayerNorm weights and biases moved off 1/0 too, so a wrongly loaded
    tensor shows).

    Args:
        embed_dim (int): Joint width.
        vision (dict): ``image_size, patch_size, width, layers, heads``.
        text (dict): ``context_length, width, layers, heads``.
        seed (int): Defaults to 0.
    """
    import torch
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
    torch.manual_seed(seed)
    model = CLIP(
        embed_dim,
        vision_cfg=CLIPVisionCfg(
            layers=vision['layers'], width=vision['width'],
            head_width=vision['width'] // vision['heads'],
            patch_size=vision['patch_size'],
            image_size=vision['image_size']),
        text_cfg=CLIPTextCfg(**text),
        quick_gelu=True).eval()
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model
