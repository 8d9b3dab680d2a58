"""
Float32 references for the Triton kernels, with the exact Skip Softmax rule (DESIGN §1), for the correctness check
the runner does before timing. Written for clarity over speed: whole score rows in float32, tile decisions from
the exclusive running maximum of the tiles' row maxima.

Why the exclusive cumulative max is the rule's running max: a tile is skipped only when its row max lies below the
running max (lambda <= 1), so skipped tiles never raise it; with lambda > 1 the rule advances the test's max by every
tile anyway. Either way the max seen before tile t is the max over tiles < t. The softmax itself is invariant to
which max it subtracts, so the reference can use a plain masked softmax over the kept keys.
"""
import math


def _exclusive_cummax(torch, x, dim):
    """max over the entries before each position along `dim` (-inf for the first)."""
    running = torch.cummax(x, dim=dim).values
    first = torch.full_like(running.narrow(dim, 0, 1), float('-inf'))
    return torch.cat([first, running.narrow(dim, 0, running.shape[dim] - 1)], dim=dim)


def prefill_rows(torch, q_rows, rows, k, v, factor, block_m, block_n):
    """
    Reference output for query rows `rows` (all inside whole query tiles) of one head.
    q_rows: [R, D] float32; k, v: [L, D] float32 of the head's KV head. Returns (out [R, D], skipped, visited).
    """
    seq_len, head_dim = k.shape
    scale = 1.0 / math.sqrt(head_dim)
    last = int(rows.max().item()) + 1
    n_tiles = -(-last // block_n)
    keys = n_tiles * block_n
    scores = (q_rows @ k[:min(keys, seq_len)].T) * scale
    if keys > seq_len:
        scores = torch.nn.functional.pad(scores, (0, keys - seq_len), value=float('-inf'))
    key_pos = torch.arange(keys, device=scores.device)
    scores = scores.masked_fill(key_pos[None, :] > rows[:, None], float('-inf'))
    keep = torch.ones_like(scores, dtype=torch.bool)
    skipped = visited = 0
    if factor > 0:
        ln_lambda = math.log(factor / seq_len)
        tile_max = scores.view(len(rows), n_tiles, block_n).max(dim=2).values
        prev = _exclusive_cummax(torch, tile_max, 1)
        below = (tile_max - prev) < ln_lambda  # -inf - finite is below; the first tile (prev -inf) never is
        tile_of_row = rows // block_m
        for tile in torch.unique(tile_of_row).tolist():
            members = tile_of_row == tile
            last_tile = (min((tile + 1) * block_m, seq_len) - 1) // block_n
            skip = below[members].all(dim=0)
            skip[last_tile + 1:] = False
            visited += last_tile + 1
            skipped += int(skip[:last_tile + 1].sum().item())
            tile_keep = (~skip).repeat_interleave(block_n)
            keep[members] &= tile_keep[None, :]
    scores = scores.masked_fill(~keep, float('-inf'))
    probs = torch.softmax(scores, dim=1)
    return probs[:, :seq_len] @ v, skipped, visited


def decode_group(torch, q_group, k, v, factor, block_n, partitions):
    """
    Reference decode output of one GQA group: q_group [G, D], k, v [L, D] float32.
    Tiles are dealt round-robin to `partitions`; each partition's running max starts at -inf.
    Returns (out [G, D], skipped, visited).
    """
    kv_len, head_dim = k.shape
    scale = 1.0 / math.sqrt(head_dim)
    n_tiles = -(-kv_len // block_n)
    scores = (q_group @ k.T) * scale
    padded = n_tiles * block_n
    if padded > kv_len:
        scores = torch.nn.functional.pad(scores, (0, padded - kv_len), value=float('-inf'))
    skipped = 0
    if factor > 0:
        ln_lambda = math.log(factor / kv_len)
        tile_max = scores.view(len(q_group), n_tiles, block_n).max(dim=2).values
        rounds = -(-n_tiles // partitions)
        grid = torch.nn.functional.pad(tile_max, (0, rounds * partitions - n_tiles), value=float('-inf'))
        grid = grid.view(len(q_group), rounds, partitions)  # [G, round, partition]: tile = round * P + partition
        prev = _exclusive_cummax(torch, grid, 1)
        skip = ((grid - prev) < ln_lambda).all(dim=0).reshape(-1)[:n_tiles]
        skipped = int(skip.sum().item())
        scores = scores.masked_fill(skip.repeat_interleave(block_n)[None, :], float('-inf'))
    probs = torch.softmax(scores, dim=1)
    return probs[:, :kv_len] @ v, skipped, n_tiles
