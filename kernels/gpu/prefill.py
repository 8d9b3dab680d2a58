"""
Causal prefill attention for Hopper in Triton: flash-attention forward (online softmax in the log2 domain, Q tile
kept on chip, GQA by indexing the KV head) with the Skip Softmax test per BLOCK_M x BLOCK_N tile.

Semantics (DESIGN §1, the same rule as kernels/tiling.ts): a KV tile is skipped iff, for every query row of the
tile, local_max - running_max < ln(lambda), lambda = factor / L. A skipped tile does no exp, no row-sum update and
no P·V, and does not advance the softmax max. The first tile a query tile visits is never skipped (its running max
is -inf). The dense arm is this same kernel with SKIP=False: the test is compiled out, so dense and skip compare
like with like.

K and V loads stay outside the `if` so Triton keeps them software-pipelined (loads inside an `if` are not); only
exp2, the row-sum, the rescale and the P·V product sit under it (Q·K^T is always needed for the test).
Counting (COUNT=True) keeps loop-carried counters and stores them once per program; timing runs with COUNT=False.
Pure compute: no timing, no I/O.
"""
import math

import triton
import triton.language as tl

LOG2E = 1.4426950408889634


@triton.jit
def online_softmax_step(acc, l_i, m_i, qk, m_local, v):
    """Absorbs one tile (scores qk in the log2 domain, its row max, its V) into the running max, sum and output."""
    m_new = tl.maximum(m_i, m_local)
    p = tl.math.exp2(qk - m_new[:, None])
    alpha = tl.math.exp2(m_i - m_new)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
    return acc, l_i, m_new


@triton.jit
def _tile(acc, l_i, m_i, m_test, n_skip, n_skip_pairs, q, k_ptrs, v_ptrs, start_n, offs_m, offs_n, row_valid,
          seq_len, qk_scale, log2_lambda,
          MASK: tl.constexpr, SKIP: tl.constexpr, COUNT: tl.constexpr):
    if MASK:
        k = tl.load(k_ptrs, mask=(start_n + offs_n)[None, :] < seq_len, other=0.0)
        v = tl.load(v_ptrs, mask=(start_n + offs_n)[:, None] < seq_len, other=0.0)
    else:
        k = tl.load(k_ptrs)
        v = tl.load(v_ptrs)
    qk = tl.dot(q, k) * qk_scale
    if MASK:
        keep = (offs_m[:, None] >= (start_n + offs_n)[None, :]) & ((start_n + offs_n)[None, :] < seq_len)
        qk = tl.where(keep, qk, float('-inf'))
    m_local = tl.max(qk, 1)
    if SKIP:
        # Padded rows past the sequence never block a skip; a row's first tile gives +inf (never skipped).
        gap = tl.max(tl.where(row_valid, m_local - m_test, float('-inf')), 0)
        m_test = tl.maximum(m_test, m_local)
        if gap < log2_lambda:
            if COUNT:
                n_skip += 1
                if MASK:
                    n_skip_pairs += tl.sum(tl.sum(keep.to(tl.int32), 1), 0)
                else:
                    n_skip_pairs += tl.sum(row_valid.to(tl.int32), 0) * k.shape[1]
        else:
            acc, l_i, m_i = online_softmax_step(acc, l_i, m_i, qk, m_local, v)
    else:
        acc, l_i, m_i = online_softmax_step(acc, l_i, m_i, qk, m_local, v)
    return acc, l_i, m_i, m_test, n_skip, n_skip_pairs


@triton.jit
def prefill_kernel(Q, K, V, O, Counts, qk_scale, log2_lambda, seq_len,
                   stride_qh, stride_qm, stride_kh, stride_kn, stride_vh, stride_vn, stride_oh, stride_om,
                   GROUP: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                   SKIP: tl.constexpr, COUNT: tl.constexpr):
    start_m = tl.program_id(0)
    head = tl.program_id(1).to(tl.int64)  # int64 offsets: Hq x L x D passes 2^31 elements beyond 128K x 128 heads
    kv_head = head // GROUP
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    row_valid = offs_m < seq_len
    q = tl.load(Q + head * stride_qh + offs_m[:, None] * stride_qm + offs_d[None, :], mask=row_valid[:, None], other=0.0)
    k_ptrs = K + kv_head * stride_kh + offs_n[None, :] * stride_kn + offs_d[:, None]
    v_ptrs = V + kv_head * stride_vh + offs_n[:, None] * stride_vn + offs_d[None, :]

    m_i = tl.full([BLOCK_M], float('-inf'), tl.float32)
    m_test = tl.full([BLOCK_M], float('-inf'), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    n_skip = tl.full([], 0, tl.int32)
    n_skip_pairs = tl.full([], 0, tl.int32)

    # Tiles entirely below the diagonal need no mask; the rest (diagonal band, sequence end) are masked.
    full_tiles = (start_m * BLOCK_M) // BLOCK_N
    last_row = tl.minimum((start_m + 1) * BLOCK_M, seq_len)
    all_tiles = tl.cdiv(last_row, BLOCK_N)
    for t in range(0, full_tiles):
        start_n = t * BLOCK_N
        acc, l_i, m_i, m_test, n_skip, n_skip_pairs = _tile(
            acc, l_i, m_i, m_test, n_skip, n_skip_pairs, q, k_ptrs + start_n * stride_kn, v_ptrs + start_n * stride_vn,
            start_n, offs_m, offs_n, row_valid, seq_len, qk_scale, log2_lambda, False, SKIP, COUNT)
    for t in range(full_tiles, all_tiles):
        start_n = t * BLOCK_N
        acc, l_i, m_i, m_test, n_skip, n_skip_pairs = _tile(
            acc, l_i, m_i, m_test, n_skip, n_skip_pairs, q, k_ptrs + start_n * stride_kn, v_ptrs + start_n * stride_vn,
            start_n, offs_m, offs_n, row_valid, seq_len, qk_scale, log2_lambda, True, SKIP, COUNT)

    l_i = tl.where(l_i > 0, l_i, 1.0)
    out = acc / l_i[:, None]
    tl.store(O + head * stride_oh + offs_m[:, None] * stride_om + offs_d[None, :], out.to(O.dtype.element_ty),
             mask=row_valid[:, None])
    if COUNT:
        base = Counts + (head * tl.num_programs(0) + start_m) * 3
        tl.store(base, all_tiles)
        tl.store(base + 1, n_skip)
        tl.store(base + 2, n_skip_pairs)


def log2_threshold(factor, kv_len):
    """log2(lambda), lambda = factor / L; -inf for factor 0 (dense)."""
    return math.log2(factor / kv_len) if factor > 0 else float('-inf')


def prefill(q, k, v, out, factor, block_m=128, block_n=128, num_warps=8, num_stages=3, counts=None):
    """
    q: [Hq, L, D], k/v: [Hkv, L, D] (bf16, last dim contiguous); out like q. factor 0 runs the dense twin.
    counts: int32 [Hq, cdiv(L, block_m), 3] receives (visited tiles, skipped tiles, skipped causal pairs) per program.
    """
    hq, seq_len, head_dim = q.shape
    hkv = k.shape[0]
    grid = (triton.cdiv(seq_len, block_m), hq)
    prefill_kernel[grid](
        q, k, v, out, counts if counts is not None else out,
        (1.0 / math.sqrt(head_dim)) * LOG2E, log2_threshold(factor, seq_len) if factor > 0 else 0.0, seq_len,
        q.stride(0), q.stride(1), k.stride(0), k.stride(1), v.stride(0), v.stride(1), out.stride(0), out.stride(1),
        GROUP=hq // hkv, BLOCK_M=block_m, BLOCK_N=block_n, HEAD_DIM=head_dim,
        SKIP=factor > 0, COUNT=counts is not None, num_warps=num_warps, num_stages=num_stages)
    return out

