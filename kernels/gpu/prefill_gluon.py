"""
Causal prefill attention for Hopper in Gluon (Triton's explicit-layout dialect): the same algorithm, semantics and
counters as prefill.py, with the wgmma pipelining written out by hand so that a data-dependent skip does not
serialise the tensor cores.

Why a second kernel: in prefill.py the skip `if` around P·V makes Triton 3.6 issue that wgmma synchronously, so the
next tile's Q·K^T no longer overlaps this tile's softmax and P·V, and the skip kernel at zero sparsity costs 1.4x
its dense twin (docs/gpu-results.md). Here every wgmma is issued asynchronously and waited explicitly. Gluon 3.6
cannot carry a pending wgmma result across an `if`, so each branch of the skip test issues and waits its own:

    iteration j (scores, row max and test of tile j already computed):
      kept:    issue S_{j+1} = Q·K_{j+1}^T; exp2 and row sum of tile j; rescale; issue P·V_j;
               wait S_{j+1}; row max and test of tile j+1 (while P·V_j runs); wait P·V_j
      skipped: S_{j+1} (synchronous); row max and test of tile j+1
      TMA: K_{j+STAGES}, V_{j+STAGES} into slot j (free: S_j and P·V_j are complete)

A group wait counts outstanding wgmma groups in issue order: S_{j+1} was issued before P·V_j, so waiting with 1
outstanding returns S_{j+1} while P·V_j still runs. The mask is applied to the diagonal tile only (the last
iteration is peeled), and query tiles run heaviest first. What still costs (128x128 tiles, 8 warps): the test's max
over the tile's 128 rows crosses both warpgroups (shared memory and a CTA barrier), which keeps them in lockstep; on an H100 at 32K the skip
kernel with nothing skipped is ~11% slower than its dense twin, ~7% of it that reduction.

Semantics are those of prefill.py (DESIGN §1): a KV tile is skipped iff every row's local_max - running_max <
log2(lambda); the test's running max advances on skipped tiles too; the first tile is never skipped. Scope: head_dim
128, square tiles BLOCK_M = BLOCK_N of 64 or 128 (scores and output use their own wgmma layouts, whose rows sit on
the same threads), sequence length a multiple of the tile (TMA tiles never cross a head); `supported()` says so and
the caller falls back to prefill.py otherwise. Dense is SKIP=False. prefill_ws.py, the default on Hopper, reuses
this file's per-tile pieces. Pure compute: no timing, no I/O.
"""
import math

from triton.experimental import gluon
from triton.experimental.gluon import language as gl
from triton.experimental.gluon.language.nvidia.hopper import (
    fence_async_shared,
    mbarrier,
    tma,
    warpgroup_mma,
    warpgroup_mma_wait,
)
from triton.experimental.gluon.nvidia.hopper import TensorDescriptor

from kernels.gpu.prefill import LOG2E, log2_threshold

HEAD_DIM = 128
BLOCKS = (64, 128)
STAGES = 3


def supported(seq_len, head_dim, block_m, block_n):
    return head_dim == HEAD_DIM and block_m == block_n and block_m in BLOCKS and seq_len % block_m == 0


@gluon.jit
def _load(desc, row, bars, smem, t, STAGES: gl.constexpr):
    slot = t % STAGES
    mbarrier.expect(bars.index(slot), desc.block_type.nbytes)
    tma.async_copy_global_to_shared(desc, [row + t * desc.block_type.shape[0], 0], bars.index(slot), smem.index(slot))


@gluon.jit
def _wait(bars, t, STAGES: gl.constexpr):
    mbarrier.wait(bars.index(t % STAGES), (t // STAGES) & 1)


@gluon.jit
def _scores(s, m_test, qk_scale, log2_lambda, rows: gl.constexpr, cols: gl.constexpr, SKIP: gl.constexpr,
            DIAGONAL: gl.constexpr, ROW_SHIFT: gl.constexpr = 0):
    """
    Scores of one tile in the log2 domain (causal mask on the diagonal tile only), row max, and the skip test.
    ROW_SHIFT: where the tile's first row sits in the diagonal KV tile (a 64-row tile under a 128-key one).
    """
    qk = s * qk_scale
    if DIAGONAL:
        causal = gl.expand_dims(gl.arange(0, s.shape[1], layout=cols), 0) <= \
            gl.expand_dims(gl.arange(0, s.shape[0], layout=rows), 1) + ROW_SHIFT
        qk = gl.where(causal, qk, float('-inf'))
    m_local = gl.max(qk, axis=1)
    m_test, keep = _test(m_local, m_test, log2_lambda, SKIP)
    return qk, m_local, m_test, keep


@gluon.jit
def _test(m_local, m_test, log2_lambda, SKIP: gl.constexpr):
    """The skip test of a tile with row maxima m_local (log2 domain), and the test's running max after it."""
    keep = True
    if SKIP:
        # every row must be below the threshold; the first tile gives +inf (running max -inf), never skipped
        keep = gl.max(m_local - m_test, axis=0) >= log2_lambda
        m_test = gl.maximum(m_test, m_local)
    return m_test, keep


@gluon.jit
def _absorb(qk, m_local, m_i, l_i, acc, acc_rows: gl.constexpr):
    """Online softmax up to P·V: P in bf16 for the wgmma, the rescaled accumulator, the new max and sum."""
    m_new = gl.maximum(m_i, m_local)
    p = gl.exp2(qk - gl.expand_dims(m_new, 1))
    alpha = gl.exp2(m_i - m_new)
    l_i = l_i * alpha + gl.sum(p, axis=1)
    return p.to(gl.bfloat16), acc * gl.expand_dims(gl.convert_layout(alpha, acc_rows), 1), m_new, l_i


@gluon.jit
def _start(s, qk_scale, log2_lambda, n_tiles, acc_shape: gl.constexpr, acc_layout: gl.constexpr,
           rows: gl.constexpr, cols: gl.constexpr, SKIP: gl.constexpr, ROW_SHIFT: gl.constexpr):
    """The online softmax's starting state (zero output and sum, running maxes -inf, no skips) and the first tile's
    scores and test (s = its Q·K^T); the first tile is the diagonal when it is the only one."""
    m_test = gl.full([acc_shape[0]], float('-inf'), gl.float32, layout=rows)
    if n_tiles == 1:
        qk, m_local, m_test, keep = _scores(s, m_test, qk_scale, log2_lambda, rows, cols, SKIP, True, ROW_SHIFT)
    else:
        qk, m_local, m_test, keep = _scores(s, m_test, qk_scale, log2_lambda, rows, cols, SKIP, False, ROW_SHIFT)
    acc = gl.zeros(acc_shape, gl.float32, layout=acc_layout)
    m_i = gl.full([acc_shape[0]], float('-inf'), gl.float32, layout=rows)
    l_i = gl.zeros([acc_shape[0]], gl.float32, layout=rows)
    return qk, m_local, m_test, keep, acc, m_i, l_i, gl.to_tensor(0), gl.to_tensor(0)


@gluon.jit
def _finish(acc, l_i, acc_rows: gl.constexpr, o_desc, o_smem, o_row, Counts, counts_index, n_tiles, n_skip,
            n_skip_pairs, COUNT: gl.constexpr):
    """Normalises and stores the output tile through o_smem (TMA), and the program's counters when counting."""
    l_i = gl.where(l_i > 0, l_i, 1.0)
    out = acc / gl.expand_dims(gl.convert_layout(l_i, acc_rows), 1)
    o_smem.store(out.to(o_desc.dtype))
    fence_async_shared()
    tma.async_copy_shared_to_global(o_desc, [o_row, 0], o_smem)
    tma.store_wait(0)
    if COUNT:
        base = Counts + counts_index * 3
        gl.store(base, n_tiles)
        gl.store(base + 1, n_skip)
        gl.store(base + 2, n_skip_pairs)


@gluon.jit
def _step(j, n_tiles, qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs,
          q_smem, k_smem, v_smem, k_desc, v_desc, kv_row, k_bars, v_bars,
          zero, qk_scale, log2_lambda, p_layout: gl.constexpr, rows: gl.constexpr, cols: gl.constexpr,
          acc_rows: gl.constexpr, STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr,
          DIAGONAL_NEXT: gl.constexpr):
    """Absorbs tile j and computes tile j+1's scores and test (the schedule in the module docstring)."""
    _wait(k_bars, j + 1, STAGES)
    k_next = k_smem.index((j + 1) % STAGES).permute((1, 0))
    if keep:
        s_next = warpgroup_mma(q_smem, k_next, zero, use_acc=False, is_async=True)
        p, acc, m_i, l_i = _absorb(qk, m_local, m_i, l_i, acc, acc_rows)
        _wait(v_bars, j, STAGES)
        pv = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(j % STAGES), acc, is_async=True)
        s = warpgroup_mma_wait(1, deps=(s_next,))
        qk, m_local, m_test, keep = _scores(s, m_test, qk_scale, log2_lambda, rows, cols, SKIP, DIAGONAL_NEXT)
        acc = warpgroup_mma_wait(0, deps=(pv,))
    else:
        s = warpgroup_mma(q_smem, k_next, zero, use_acc=False)
        # V_j is never read, but its barrier phase must be consumed before the slot is loaded again
        _wait(v_bars, j, STAGES)
        if COUNT:
            n_skip += 1
            n_skip_pairs += zero.shape[0] * zero.shape[1]
        qk, m_local, m_test, keep = _scores(s, m_test, qk_scale, log2_lambda, rows, cols, SKIP, DIAGONAL_NEXT)
    # S_j and P·V_j are complete: slot j takes the tile STAGES ahead.
    if j + STAGES < n_tiles:
        _load(k_desc, kv_row, k_bars, k_smem, j + STAGES, STAGES)
        _load(v_desc, kv_row, v_bars, v_smem, j + STAGES, STAGES)
    return qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs


@gluon.jit
def prefill_gluon_kernel(q_desc, k_desc, v_desc, o_desc, Counts, qk_scale, log2_lambda, seq_len,
                         GROUP: gl.constexpr, STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr,
                         num_warps: gl.constexpr):
    BLOCK_M: gl.constexpr = q_desc.block_type.shape[0]
    BLOCK_N: gl.constexpr = k_desc.block_type.shape[0]
    D: gl.constexpr = q_desc.block_type.shape[1]
    gl.static_assert(BLOCK_M == BLOCK_N)
    # Heaviest query tiles (most KV tiles under the causal mask) first, so the tail of the grid is short ones.
    n_m = gl.num_programs(0)
    start_m = n_m - 1 - gl.program_id(0)
    head = gl.program_id(1)
    q_row = head * seq_len + start_m * BLOCK_M
    kv_row = (head // GROUP) * seq_len
    n_tiles = start_m + 1

    # One wgmma layout for the scores (N = BLOCK_N), one for the output (N = D); rows sit on the same threads in both,
    # so converting a row vector between them moves no data.
    mma: gl.constexpr = gl.NVMMADistributedLayout(version=[3, 0], warps_per_cta=[num_warps, 1],
                                                  instr_shape=[16, BLOCK_N, 16])
    mma_o: gl.constexpr = gl.NVMMADistributedLayout(version=[3, 0], warps_per_cta=[num_warps, 1],
                                                    instr_shape=[16, D, 16])
    p_layout: gl.constexpr = gl.DotOperandLayout(operand_index=0, parent=mma_o, k_width=2)
    rows: gl.constexpr = gl.SliceLayout(1, mma)
    cols: gl.constexpr = gl.SliceLayout(0, mma)
    acc_rows: gl.constexpr = gl.SliceLayout(1, mma_o)

    q_smem = gl.allocate_shared_memory(q_desc.dtype, q_desc.block_type.shape, q_desc.layout)
    k_smem = gl.allocate_shared_memory(k_desc.dtype, [STAGES] + k_desc.block_type.shape, k_desc.layout)
    v_smem = gl.allocate_shared_memory(v_desc.dtype, [STAGES] + v_desc.block_type.shape, v_desc.layout)
    q_bar = gl.allocate_shared_memory(gl.int64, [1], mbarrier.MBarrierLayout())
    k_bars = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_bars = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    mbarrier.init(q_bar, count=1)
    for i in gl.static_range(STAGES):
        mbarrier.init(k_bars.index(i), count=1)
        mbarrier.init(v_bars.index(i), count=1)

    mbarrier.expect(q_bar, q_desc.block_type.nbytes)
    tma.async_copy_global_to_shared(q_desc, [q_row, 0], q_bar, q_smem)
    for t in gl.static_range(STAGES):
        if t < n_tiles:
            _load(k_desc, kv_row, k_bars, k_smem, t, STAGES)
            _load(v_desc, kv_row, v_bars, v_smem, t, STAGES)

    zero = gl.zeros([BLOCK_M, BLOCK_N], gl.float32, layout=mma)
    mbarrier.wait(q_bar, 0)
    _wait(k_bars, 0, STAGES)
    s = warpgroup_mma(q_smem, k_smem.index(0).permute((1, 0)), zero, use_acc=False)
    qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs = _start(
        s, qk_scale, log2_lambda, n_tiles, [BLOCK_M, D], mma_o, rows, cols, SKIP, 0)

    # Iteration j absorbs tile j (its scores and test are ready) and computes tile j+1's; the last iteration's next
    # tile is the diagonal, the only one that needs the causal mask.
    for j in range(0, n_tiles - 2):
        qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs = _step(
            j, n_tiles, qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs,
            q_smem, k_smem, v_smem, k_desc, v_desc, kv_row, k_bars, v_bars,
            zero, qk_scale, log2_lambda, p_layout, rows, cols, acc_rows, STAGES, SKIP, COUNT, False)
    if n_tiles >= 2:
        qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs = _step(
            n_tiles - 2, n_tiles, qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs,
            q_smem, k_smem, v_smem, k_desc, v_desc, kv_row, k_bars, v_bars,
            zero, qk_scale, log2_lambda, p_layout, rows, cols, acc_rows, STAGES, SKIP, COUNT, True)

    # The last (diagonal) tile.
    last = n_tiles - 1
    if keep:
        p, acc, m_i, l_i = _absorb(qk, m_local, m_i, l_i, acc, acc_rows)
        _wait(v_bars, last, STAGES)
        acc = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(last % STAGES), acc)
    else:
        _wait(v_bars, last, STAGES)  # no TMA may still be writing when the program exits
        if COUNT:
            n_skip += 1
            n_skip_pairs += BLOCK_M * (BLOCK_M + 1) // 2

    # Q is no longer read: its buffer stages the output for the TMA store.
    _finish(acc, l_i, acc_rows, o_desc, q_smem, q_row, Counts, head * n_m + start_m, n_tiles, n_skip, n_skip_pairs,
            COUNT)
    mbarrier.invalidate(q_bar)
    for i in gl.static_range(STAGES):
        mbarrier.invalidate(k_bars.index(i))
        mbarrier.invalidate(v_bars.index(i))


def _descriptor(t, block):
    flat = t.reshape(-1, t.shape[-1])
    layout = gl.NVMMASharedLayout.get_default_for([block, t.shape[-1]], gl.bfloat16)
    return TensorDescriptor(flat, list(flat.shape), list(flat.stride()), [block, t.shape[-1]], layout)


def prefill_gluon(q, k, v, out, factor, block=128, num_warps=8, stages=STAGES, counts=None):
    """
    Same contract as prefill.prefill with BLOCK_M = BLOCK_N = block: q [Hq, L, D], k/v [Hkv, L, D] bf16
    contiguous; out like q; factor 0 = dense. counts: int32 [Hq, L / block, 3] (visited tiles, skipped tiles,
    skipped causal pairs) per program.
    """
    hq, seq_len, head_dim = q.shape
    if not supported(seq_len, head_dim, block, block):
        raise ValueError(f'prefill_gluon needs head_dim {HEAD_DIM}, square tiles of {BLOCKS} and L a multiple of the '
                         f'tile (got {head_dim}, {block}, {seq_len})')
    args, flags = launch_arguments('prefill_gluon', q, k, v, out, factor, counts, block, block)
    prefill_gluon_kernel[(seq_len // block, hq)](*args, **flags, STAGES=stages, num_warps=num_warps)
    return out


def launch_arguments(kernel, q, k, v, out, factor, counts, q_block, kv_block):
    """What every Gluon prefill kernel takes: TMA descriptors (Q/O by q_block rows, K/V by kv_block), the counters
    (or any pointer), the log2-domain scale and threshold, L; and its GROUP, SKIP and COUNT constexprs."""
    for name, t in (('q', q), ('k', k), ('v', v), ('out', out)):
        if not t.is_contiguous():
            raise ValueError(f'{kernel} needs contiguous tensors ({name} is not)')
    hq, seq_len, head_dim = q.shape
    args = (_descriptor(q, q_block), _descriptor(k, kv_block), _descriptor(v, kv_block), _descriptor(out, q_block),
            counts if counts is not None else out, (1.0 / math.sqrt(head_dim)) * LOG2E,
            log2_threshold(factor, seq_len) if factor > 0 else 0.0, seq_len)
    return args, {'GROUP': hq // k.shape[0], 'SKIP': factor > 0, 'COUNT': counts is not None}
