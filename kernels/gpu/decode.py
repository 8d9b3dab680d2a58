"""
Split-KV decode attention (flash-decoding) for Hopper in Triton, with the Skip Softmax test per GQA group x KV tile.

One program per (sequence, KV head, partition). The GQA group's query heads are one [BLOCK_H, D] tile (padded to
16 rows for tl.dot), so the skip decision is naturally the group's: a tile is skipped iff every query head of the
group has local_max - running_max < ln(lambda). KV tiles are dealt round-robin to the partitions (tile t goes to
partition t mod P), as TensorRT-LLM's decode reference does; each partition keeps its own running max from -inf, so
its first tile is never skipped (more partitions skip less: report P with the sparsity).

Decode is bandwidth-bound and what skipping saves is the V tile: K is always read (the scores need it), V is loaded
only inside the `if`. Stage 2 merges the partitions by log-sum-exp. Pure compute: no timing, no I/O.
"""
import math

import triton
import triton.language as tl

from .prefill import LOG2E, log2_threshold, online_softmax_step


@triton.jit
def _absorb(acc, l_i, m_i, qk, m_local, v, keep):
    """Online-softmax update by one tile, a no-op when keep is false (branch-free: the selects pick the old state)."""
    m_new = tl.where(keep, tl.maximum(m_i, m_local), m_i)
    p = tl.where(keep, tl.math.exp2(qk - m_new[:, None]), 0.0)
    alpha = tl.where(keep, tl.math.exp2(m_i - m_new), 1.0)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
    return acc, l_i, m_new


@triton.jit
def decode_partial_kernel(Q, K, V, Acc, Lse, Counts, qk_scale, log2_lambda, kv_len,
                          stride_qb, stride_qh, stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn,
                          GROUP: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                          PARTITIONS: tl.constexpr, SKIP: tl.constexpr, COUNT: tl.constexpr,
                          PAIRED: tl.constexpr):
    # int64 offsets: a batch of long sequences passes 2^31 elements (32 x 8 heads x 128K x 128).
    b = tl.program_id(0).to(tl.int64)
    kv_head = tl.program_id(1).to(tl.int64)
    part = tl.program_id(2)
    num_kv_heads = tl.num_programs(1)
    offs_h = tl.arange(0, BLOCK_H)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    row_valid = offs_h < GROUP
    q = tl.load(Q + b * stride_qb + (kv_head * GROUP + offs_h)[:, None] * stride_qh + offs_d[None, :],
                mask=row_valid[:, None], other=0.0)
    k_base = K + b * stride_kb + kv_head * stride_kh
    v_base = V + b * stride_vb + kv_head * stride_vh

    m_i = tl.full([BLOCK_H], float('-inf'), tl.float32)
    m_test = tl.full([BLOCK_H], float('-inf'), tl.float32)
    l_i = tl.zeros([BLOCK_H], tl.float32)
    acc = tl.zeros([BLOCK_H, HEAD_DIM], tl.float32)
    n_visit = tl.full([], 0, tl.int32)
    n_skip = tl.full([], 0, tl.int32)
    n_tiles = tl.cdiv(kv_len, BLOCK_N)
    if PAIRED:
        # Two tiles of the partition per iteration, V loads predicated instead of branched: both K loads and both
        # (kept) V loads are in flight together, which hides the latency a V load issued after its tile's test has.
        for t0 in range(part, n_tiles, 2 * PARTITIONS):
            t1 = t0 + PARTITIONS
            has1 = t1 < n_tiles
            keys0 = t0 * BLOCK_N + offs_n
            keys1 = t1 * BLOCK_N + offs_n
            valid0 = keys0 < kv_len
            valid1 = keys1 < kv_len
            k0 = tl.load(k_base + keys0[None, :] * stride_kn + offs_d[:, None], mask=valid0[None, :], other=0.0)
            k1 = tl.load(k_base + keys1[None, :] * stride_kn + offs_d[:, None], mask=valid1[None, :], other=0.0)
            qk0 = tl.where(valid0[None, :], tl.dot(q, k0) * qk_scale, float('-inf'))
            qk1 = tl.where(valid1[None, :], tl.dot(q, k1) * qk_scale, float('-inf'))
            m_local0 = tl.max(qk0, 1)
            m_local1 = tl.max(qk1, 1)
            n_visit += 1 + has1.to(tl.int32)
            keep0 = t0 >= 0
            keep1 = has1
            if SKIP:
                # Tile t1's test sees the max advanced by tile t0, exactly as in one-tile order.
                gap0 = tl.max(tl.where(row_valid, m_local0 - m_test, float('-inf')), 0)
                m_test = tl.maximum(m_test, m_local0)
                gap1 = tl.max(tl.where(row_valid, m_local1 - m_test, float('-inf')), 0)
                m_test = tl.maximum(m_test, m_local1)
                keep0 = (gap0 < log2_lambda) == 0  # written as "not skipped" so that a NaN gap keeps the tile
                keep1 = ((gap1 < log2_lambda) == 0) & has1
                n_skip += (keep0 == 0).to(tl.int32) + (has1 & (keep1 == 0)).to(tl.int32)
            v0 = tl.load(v_base + keys0[:, None] * stride_vn + offs_d[None, :], mask=valid0[:, None] & keep0, other=0.0)
            v1 = tl.load(v_base + keys1[:, None] * stride_vn + offs_d[None, :], mask=valid1[:, None] & keep1, other=0.0)
            acc, l_i, m_i = _absorb(acc, l_i, m_i, qk0, m_local0, v0, keep0)
            acc, l_i, m_i = _absorb(acc, l_i, m_i, qk1, m_local1, v1, keep1)
    else:
        for t in range(part, n_tiles, PARTITIONS):
            keys = t * BLOCK_N + offs_n
            key_valid = keys < kv_len
            k = tl.load(k_base + keys[None, :] * stride_kn + offs_d[:, None], mask=key_valid[None, :], other=0.0)
            qk = tl.dot(q, k) * qk_scale
            qk = tl.where(key_valid[None, :], qk, float('-inf'))
            m_local = tl.max(qk, 1)
            n_visit += 1
            if SKIP:
                gap = tl.max(tl.where(row_valid, m_local - m_test, float('-inf')), 0)
                m_test = tl.maximum(m_test, m_local)
                if gap < log2_lambda:
                    n_skip += 1
                else:
                    v = tl.load(v_base + keys[:, None] * stride_vn + offs_d[None, :], mask=key_valid[:, None], other=0.0)
                    acc, l_i, m_i = online_softmax_step(acc, l_i, m_i, qk, m_local, v)
            else:
                v = tl.load(v_base + keys[:, None] * stride_vn + offs_d[None, :], mask=key_valid[:, None], other=0.0)
                acc, l_i, m_i = online_softmax_step(acc, l_i, m_i, qk, m_local, v)

    # Partial results: acc / l and lse = m + log2(l) (log2 domain); an empty partition gives lse = -inf.
    slot = (b * num_kv_heads + kv_head) * PARTITIONS + part
    safe_l = tl.where(l_i > 0, l_i, 1.0)
    lse = tl.where(l_i > 0, m_i + tl.math.log2(safe_l), float('-inf'))
    tl.store(Acc + (slot * BLOCK_H + offs_h)[:, None] * HEAD_DIM + offs_d[None, :], acc / safe_l[:, None])
    tl.store(Lse + slot * BLOCK_H + offs_h, lse)
    if COUNT:
        tl.store(Counts + slot * 2, n_visit)
        tl.store(Counts + slot * 2 + 1, n_skip)


@triton.jit
def decode_merge_kernel(Acc, Lse, O, stride_ob, stride_oh,
                        GROUP: tl.constexpr, BLOCK_H: tl.constexpr, HEAD_DIM: tl.constexpr,
                        PARTITIONS: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    head = tl.program_id(1)
    kv_head = head // GROUP
    row = head % GROUP
    num_kv_heads = tl.num_programs(1) // GROUP
    offs_p = tl.arange(0, PARTITIONS)
    offs_d = tl.arange(0, HEAD_DIM)
    slots = (b * num_kv_heads + kv_head) * PARTITIONS + offs_p
    lse = tl.load(Lse + slots * BLOCK_H + row)
    top = tl.max(lse, 0)
    w = tl.where(lse > float('-inf'), tl.math.exp2(lse - top), 0.0)
    parts = tl.load(Acc + (slots * BLOCK_H + row)[:, None] * HEAD_DIM + offs_d[None, :])
    out = tl.sum(parts * w[:, None], 0) / tl.sum(w, 0)
    tl.store(O + b * stride_ob + head * stride_oh + offs_d, out.to(O.dtype.element_ty))


class DecodeWorkspace:
    """Partial-result buffers for one (batch, heads, partitions) shape, allocated once and reused by every call."""

    def __init__(self, torch, batch, num_kv_heads, partitions, head_dim, device, block_h=16):
        slots = batch * num_kv_heads * partitions
        self.block_h = block_h
        self.partitions = partitions
        self.acc = torch.empty((slots, block_h, head_dim), dtype=torch.float32, device=device)
        self.lse = torch.empty((slots, block_h), dtype=torch.float32, device=device)


def decode(q, k, v, out, factor, workspace, block_n=64, num_warps=4, num_stages=2, counts=None, paired=False):
    """
    q: [B, Hq, D], k/v: [B, Hkv, L, D] (bf16); out like q. factor 0 runs the dense twin.
    partitions must be a power of two (the merge reduces over them in one tile).
    counts: int32 [B, Hkv, P, 2] receives (visited tiles, skipped tiles) per program.
    """
    batch, hq, head_dim = q.shape
    hkv, kv_len = k.shape[1], k.shape[2]
    group = hq // hkv
    if group > workspace.block_h:
        raise ValueError(f'GQA group {group} exceeds {workspace.block_h} rows')
    parts = workspace.partitions
    decode_partial_kernel[(batch, hkv, parts)](
        q, k, v, workspace.acc, workspace.lse, counts if counts is not None else workspace.lse,
        (1.0 / math.sqrt(head_dim)) * LOG2E, log2_threshold(factor, kv_len) if factor > 0 else 0.0, kv_len,
        q.stride(0), q.stride(1), k.stride(0), k.stride(1), k.stride(2), v.stride(0), v.stride(1), v.stride(2),
        GROUP=group, BLOCK_H=workspace.block_h, BLOCK_N=block_n, HEAD_DIM=head_dim, PARTITIONS=parts,
        SKIP=factor > 0, COUNT=counts is not None, PAIRED=paired, num_warps=num_warps, num_stages=num_stages)
    decode_merge_kernel[(batch, hq)](
        workspace.acc, workspace.lse, out, out.stride(0), out.stride(1),
        GROUP=group, BLOCK_H=workspace.block_h, HEAD_DIM=head_dim, PARTITIONS=parts, num_warps=4)
    return out
