"""Gathering features across ranks for contrastive and matching losses."""
from typing import Tuple

import torch
import torch.distributed as dist
from mmengine.dist import get_dist_info


class _GatherWithGrad(torch.autograd.Function):
    """``all_gather`` whose backward sends every rank its slice's gradient
    (summed over ranks, as each rank's loss uses all gathered rows)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        world = dist.get_world_size()
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad)
        rank, world = dist.get_rank(), dist.get_world_size()
        return grad.chunk(world, dim=0)[rank]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """``(B, ...)`` -> ``(B * world, ...)`` with gradients to the local
    rows; identity on one process. All ranks must use the same B."""
    if get_dist_info()[1] == 1:
        return x
    return _GatherWithGrad.apply(x)


@torch.no_grad()
def gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    """``(B, ...)`` -> ``(B * world, ...)`` without gradients (detached on
    one process too, so one process computes what many ranks do)."""
    if get_dist_info()[1] == 1:
        return x.detach()
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def local_rows(batch_size: int) -> Tuple[int, int]:
    """Slice ``(start, stop)`` of this rank's rows in a gathered batch."""
    rank = get_dist_info()[0]
    return rank * batch_size, (rank + 1) * batch_size
