"""Gathering features across ranks for contrastive and matching losses."""
from typing import Tuple

import torch
import torch.distributed as dist
from mmengine.dist import all_reduce, get_dist_info


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


def global_mean(local_sum: torch.Tensor,
                local_count: torch.Tensor) -> torch.Tensor:
    """Mean over the elements of *all* ranks, in the form DDP needs.

    DDP averages gradients over ranks, so a rank's loss ``local_sum * world
    / global_count`` makes the averaged gradient that of
    ``sum over ranks / global_count``: the mean over every element (token,
    pair, ...) of the global batch, as one process with the whole batch
    computes it, even when ranks hold different numbers of elements. On one
    process it is ``local_sum / local_count``.

    Args:
        local_sum (torch.Tensor): Scalar sum of this rank's per-element
            losses.
        local_count (torch.Tensor | int): Number of elements on this rank.
    """
    world = get_dist_info()[1]
    count = torch.as_tensor(local_count, dtype=torch.float,
                            device=local_sum.device).detach().clone()
    if world > 1:
        all_reduce(count)
    return local_sum * world / count.clamp(min=1)


def local_uniform(generator: torch.Generator, batch_size: int,
                  *shape: int) -> torch.Tensor:
    """This rank's rows of a global ``(B_all, *shape)`` uniform draw: every
    rank draws the whole global batch from the same ``generator`` and keeps
    its own rows, so the draws do not depend on the number of ranks."""
    start, stop = local_rows(batch_size)
    draw = torch.rand((batch_size * get_dist_info()[1], *shape),
                      generator=generator)
    return draw[start:stop]
