"""
Causal prefill attention for Hopper in Gluon, warp-specialised: producer warps stream K and V tiles by TMA into shared
rings, and two consumer warpgroups each own a 64-row query tile under the same 128-key tiles. Each consumer
makes its own skip decisions (a BLOCK_M x BLOCK_N = 64 x 128 tile), so the test's vote over rows stays inside one
warpgroup and never stops the other: while one computes softmax or waits on its test, the other keeps the tensor
cores busy. prefill_gluon.py, with one decision per 128 x 128 tile across both warpgroups, loses 7-11% to that
CTA-wide reduction (docs/gpu-results.md).

The vote is one `bar.red.or.pred` per tile: a named barrier over the consumer's 128 threads that also ORs a predicate,
so every thread gets the tile's decision at once. gl.max over the rows instead shuffles inside each warp and then
exchanges the four warps' maxima through shared memory behind a named barrier; at 128K the vote took the skip arm at
~50% sparsity from 174.6 to 172.6 ms and a run of skipped tiles from 121.9 to 117.0 ms, with the same decisions and
outputs (docs/gpu/22-bar-vote-h100.txt); in the harness, 1.25x to 1.26x (docs/gpu/23-vote-harness-h100.txt). Gluon has
no scalar vote, so it is inline PTX: each thread ORs its rows' votes into a predicate register of its consumer,
declared once at the consumer's start, and a scalar asm runs the barrier and hands `if keep:` its operand. Barrier ids
14 and 15 are clear of Triton's warp specialisation (0 and 1, then one per partition: 2 to 4 here). The decision then
passes through vote.sync.any, which changes nothing but lets ptxas see it is warp-uniform: the 14 WARPSYNCs it put
around the branches went, and ~50% went from 174.7 to 170.4 ms (docs/gpu/24-test-cost-uniform-h100.txt).

V only for the tiles a consumer keeps (the skip arm; the dense twin has one producer warp for K and V). A K producer
warp loads every K tile; a V producer warp loads V_t early (as K) while a consumer kept the latest tile decided by
tile t - V_LEAD, and otherwise waits for both consumers' decisions on tile t and loads V_t only if one keeps it, or
else completes V_t's barrier with a plain arrive. Each consumer publishes each decision right after its test (an int32
per consumer in a ring of DECISION_SLOTS pairs, and an arrive on the slot's count-2 mbarrier). A consumer that skips
tile j frees V_j's slot in step j+1, after that step's test, once V_j's barrier has completed (by then long done), so
a skipped tile waits for nothing on V. With the producer's flag through vote.sync.any as well, this took ~50% at 128K
from 169.7 to 167.0 ms and a run of skipped tiles from 118.3 to 102.5 ms, about what its Q·K^T alone costs
(docs/gpu/25-v-protocols-uniform-h100.txt). On the kernel before the uniform vote the same protocol left ~50%
unchanged (docs/gpu/19-v-traffic-issue-ahead-h100.txt), and with a skipped tile waiting for its V within its own step
it is slower (logs 19 and 25).

Per consumer, step j starts from tile j's scaled scores and row max (_vote_test, and prefill_gluon.py's _absorb):

    after a kept tile j-1:    test tile j, then issue S_{j+1} = Q·K_{j+1}^T
    after a skipped tile j-1: issue S_{j+1}, then test tile j while it runs
    tile j kept:    exp2 and row sum of tile j beside S_{j+1}; issue P·V_j; wait for both
    tile j skipped: wait for S_{j+1} (V_j is freed in step j+1)
    release K_{j+1} and a kept V_j; scale S_{j+1} and take its row max

S_{j+1} is needed whatever tile j's decision, so issuing it before the test costs nothing, and in a run of skipped
tiles each test then runs under the next Q·K^T instead of after it. On an H100 at 128K, a run with every tile but
the first skipped went from 128 to 121 ms (dense: 219 ms; a skipped tile's Q·K^T is half a kept tile's tensor work)
and the skip arm at ~50% sparsity 1-2% down (docs/gpu/17-issue-ahead-probes-h100.txt and
docs/gpu/18-issue-ahead-harness-h100.txt). After a kept tile the test still comes first: issuing first there made
kept tiles 2.8% slower with nothing skipped. The dense twin compiles to the test-first order alone. The loop carries
the scaled scores and their row max, taken right after S_{j+1} lands: with the row max taken at the top of the step
instead, ptxas serialised every wgmma of the dense twin (C7511, insufficient registers for the wgmma pipeline).
Running the test while P·V_j is in flight instead keeps P and the pending accumulator live across the test's
reduction: ptxas spilled 14 registers under the 240 a consumer gets, and the skip kernel with nothing skipped cost
10.5% over its dense twin instead of 6.9% (docs/gpu/10-gluon-ws-prefill-h100.txt). The rings' slots are freed by
both consumers (empty barriers count 2).

Semantics (DESIGN §1) as prefill.py with BLOCK_M = 64, BLOCK_N = 128: same tiles visited, same decisions, same
counters. Scope: head_dim 128, L a multiple of 128. Dense is SKIP=False. Pure compute: no timing, no I/O.
"""
from triton.experimental import gluon
from triton.experimental.gluon import language as gl
from triton.experimental.gluon.language.nvidia.hopper import mbarrier, tma, warpgroup_mma, warpgroup_mma_wait

from kernels.gpu.prefill_gluon import HEAD_DIM, _absorb, _finish, _scores, launch_arguments

BLOCK_M = 64
BLOCK_N = 128
STAGES = 3
# The V producer's look-ahead: V_t is loaded early when a consumer kept the latest tile decided by tile t - V_LEAD.
V_LEAD = gl.constexpr(2)
# Decisions in flight for the V producer: a consumer publishes tile j's only once V_{j-1} is in, so at most
# V_LEAD + 1 are unread at a time.
DECISION_SLOTS = gl.constexpr(4)


def _vote_ptx(voter):
    """The vote's PTX for consumer `voter` (0 or 1): declare and clear its predicate register, OR a thread's two rows'
    votes into it (an OR, so more calls per thread would also be right), and the barrier that ORs it over the
    warpgroup, returns the decision and clears the register for the next tile. The barrier's result goes through
    vote.sync.any, which changes no value but lets ptxas see that the decision is warp-uniform."""
    reg, barrier = f'skipvote_{voter}', 14 + voter
    declare = f'.reg .pred {reg};\n\tsetp.ne.b32 {reg}, $1, $1;\n\tmov.b32 $0, $1;'
    collect = (f'{{ .reg .b32 t; .reg .pred p; or.b32 t, $2, $3; setp.ne.b32 p, t, 0; or.pred {reg}, {reg}, p; '
               f'mov.b32 $0, t; mov.b32 $1, t; }}')
    reduce = (f'{{ .reg .pred k, u; bar.red.or.pred k, {barrier}, 128, {reg}; vote.sync.any.pred u, k, 0xffffffff; '
              f'selp.b32 $0, 1, 0, u; setp.ne.b32 {reg}, $1, $1; }}')
    return gl.constexpr(declare), gl.constexpr(collect), gl.constexpr(reduce)


DECLARE_VOTE_0, COLLECT_VOTE_0, REDUCE_VOTE_0 = _vote_ptx(0)
DECLARE_VOTE_1, COLLECT_VOTE_1, REDUCE_VOTE_1 = _vote_ptx(1)


def supported(seq_len, head_dim, block_m, block_n):
    return head_dim == HEAD_DIM and block_m == BLOCK_M and block_n == BLOCK_N and seq_len % BLOCK_N == 0


@gluon.jit
def _ready(bars, t, STAGES: gl.constexpr):
    mbarrier.wait(bars.index(t % STAGES), (t // STAGES) & 1)


@gluon.jit
def _release(bars, t, STAGES: gl.constexpr):
    mbarrier.arrive(bars.index(t % STAGES), count=1)


@gluon.jit
def _warp_uniform(x):
    """x != 0 as 0/1 through vote.sync.any: the same value, which ptxas then knows is warp-uniform, so a branch on it
    needs no reconvergence."""
    return gl.inline_asm_elementwise(
        "{ .reg .pred p, u; setp.ne.b32 p, $1, 0; vote.sync.any.pred u, p, 0xffffffff; selp.b32 $0, 1, 0, u; }",
        "=r,r", [x], gl.int32, is_pure=False, pack=1)


@gluon.jit
def _load(desc, bars_empty, bars_ready, smem, kv_row, t, STAGES: gl.constexpr):
    """Tile t into its ring slot once both consumers have freed it."""
    slot = t % STAGES
    # a fresh mbarrier counts as having completed the phase before 0, so the first round passes
    mbarrier.wait(bars_empty.index(slot), ((t // STAGES) & 1) ^ 1)
    mbarrier.expect(bars_ready.index(slot), desc.block_type.nbytes)
    tma.async_copy_global_to_shared(desc, [kv_row + t * desc.block_type.shape[0], 0], bars_ready.index(slot),
                                    smem.index(slot))


@gluon.jit
def _producer(k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles,
              STAGES: gl.constexpr):
    """The dense twin's producer: K_t and V_t for every tile."""
    for t in range(n_tiles):
        _load(k_desc, k_empty, k_ready, k_smem, kv_row, t, STAGES)
        _load(v_desc, v_empty, v_ready, v_smem, kv_row, t, STAGES)


@gluon.jit
def _k_producer(k_desc, k_smem, k_ready, k_empty, kv_row, n_tiles, STAGES: gl.constexpr):
    for t in range(n_tiles):
        _load(k_desc, k_empty, k_ready, k_smem, kv_row, t, STAGES)


@gluon.jit
def _decisions(flags, decided, seen, last_keep, until):
    """Consumes the published decisions up to tile `until`, in order; last_keep: whether a consumer kept the
    latest."""
    while seen <= until:
        mbarrier.wait(decided.index(seen % DECISION_SLOTS), (seen // DECISION_SLOTS) & 1)
        pair = flags.index(seen % DECISION_SLOTS).load(gl.BlockedLayout([1], [32], [1], [0]))
        last_keep = _warp_uniform(gl.max(pair, axis=0))
        seen += 1
    return seen, last_keep


@gluon.jit
def _v_producer(v_desc, v_smem, v_ready, v_empty, flags, decided, kv_row, n_tiles, STAGES: gl.constexpr):
    """The skip arm's V: V_t is loaded early while a consumer kept the latest tile decided by tile t - V_LEAD;
    otherwise only once both decisions on tile t are in, and only if one keeps it. When none reads V_t, its barrier
    is completed with a plain arrive, which a skipping consumer waits for before it frees the slot."""
    seen = gl.to_tensor(0)
    last_keep = gl.to_tensor(1)
    for t in range(n_tiles):
        seen, last_keep = _decisions(flags, decided, seen, last_keep, t - V_LEAD)
        if last_keep == 0:
            seen, last_keep = _decisions(flags, decided, seen, last_keep, t)
        slot = t % STAGES
        mbarrier.wait(v_empty.index(slot), ((t // STAGES) & 1) ^ 1)
        if last_keep > 0:
            mbarrier.expect(v_ready.index(slot), v_desc.block_type.nbytes)
            tma.async_copy_global_to_shared(v_desc, [kv_row + t * v_desc.block_type.shape[0], 0],
                                            v_ready.index(slot), v_smem.index(slot))
        else:
            mbarrier.arrive(v_ready.index(slot), count=1)


@gluon.jit
def _publish(flags, decided, t, keep, CONSUMER: gl.constexpr):
    """A consumer's decision on tile t for the V producer: its int32 of the slot's pair, then an arrive on the
    slot's count-2 barrier."""
    one: gl.constexpr = gl.BlockedLayout([1], [32], [4], [0])
    flags.index(t % DECISION_SLOTS).slice(CONSUMER, 1).store(gl.full([1], 0, gl.int32, layout=one) + keep.to(gl.int32))
    mbarrier.arrive(decided.index(t % DECISION_SLOTS), count=1)


@gluon.jit
def _keep(qk, m_local, m_i, l_i, acc, s_next, v_smem, v_ready, j, p_layout: gl.constexpr, rows: gl.constexpr,
          STAGES: gl.constexpr):
    """Tile j kept: exp2 and row sum beside the pending S_{j+1}, then P·V_j; waits for both."""
    p, acc, m_i, l_i = _absorb(qk, m_local, m_i, l_i, acc, rows)
    _ready(v_ready, j, STAGES)
    pv = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(j % STAGES), acc, is_async=True)
    s, acc = warpgroup_mma_wait(0, deps=(s_next, pv))
    return s, acc, m_i, l_i


@gluon.jit
def _skip(n_skip, n_skip_pairs, pairs: gl.constexpr, COUNT: gl.constexpr):
    """Tile j skipped: nothing to wait for. Its V slot is freed in the next step (or after the loop), once V_j's
    barrier has completed, so that the next TMA into the slot cannot overlap one still landing."""
    if COUNT:
        n_skip += 1
        n_skip_pairs += pairs
    return n_skip, n_skip_pairs


@gluon.jit
def _declare_vote(ROW_SHIFT: gl.constexpr):
    if ROW_SHIFT == 0:
        gl.inline_asm_elementwise(DECLARE_VOTE_0, '=r,r', [gl.to_tensor(0)], gl.int32, is_pure=False, pack=1)
    else:
        gl.inline_asm_elementwise(DECLARE_VOTE_1, '=r,r', [gl.to_tensor(0)], gl.int32, is_pure=False, pack=1)


@gluon.jit
def _vote_test(m_local, m_test, log2_lambda, SKIP: gl.constexpr, ROW_SHIFT: gl.constexpr):
    """prefill_gluon._test with the max over rows as a warpgroup vote: keep iff any row's max is at least log2 lambda
    above the test's running max. A thread holds two rows of the 64 (pack 2); the consumer at ROW_SHIFT 0 votes in
    register 0 and barrier 14, the other in register 1 and barrier 15."""
    keep = True
    if SKIP:
        votes = (m_local - m_test >= log2_lambda).to(gl.int32)
        zero = gl.to_tensor(0)
        if ROW_SHIFT == 0:
            gl.inline_asm_elementwise(COLLECT_VOTE_0, '=r,=r,r,r', [votes], gl.int32, is_pure=False, pack=2)
            kept = gl.inline_asm_elementwise(REDUCE_VOTE_0, '=r,r', [zero], gl.int32, is_pure=False, pack=1)
        else:
            gl.inline_asm_elementwise(COLLECT_VOTE_1, '=r,=r,r,r', [votes], gl.int32, is_pure=False, pack=2)
            kept = gl.inline_asm_elementwise(REDUCE_VOTE_1, '=r,r', [zero], gl.int32, is_pure=False, pack=1)
        keep = kept != 0
        m_test = gl.maximum(m_test, m_local)
    return m_test, keep


@gluon.jit
def _consumer_step(j, qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs,
                   q_smem, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, flags, decided,
                   zero, qk_scale, log2_lambda, p_layout: gl.constexpr, rows: gl.constexpr,
                   STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, ROW_SHIFT: gl.constexpr):
    """Tests and absorbs tile j (qk: its scaled scores, m_local: their row max; keep: tile j-1's decision) and
    returns tile j+1's scores and row max with tile j's decision (the schedule in the module docstring)."""
    pairs: gl.constexpr = zero.shape[0] * zero.shape[1]
    consumer: gl.constexpr = ROW_SHIFT // zero.shape[0]
    k_next = k_smem.index((j + 1) % STAGES).permute((1, 0))
    if keep:
        m_test, keep = _vote_test(m_local, m_test, log2_lambda, SKIP, ROW_SHIFT)
        if SKIP:
            _publish(flags, decided, j, keep, consumer)
        _ready(k_ready, j + 1, STAGES)
        if keep:
            s_next = warpgroup_mma(q_smem, k_next, zero, use_acc=False, is_async=True)
            s, acc, m_i, l_i = _keep(qk, m_local, m_i, l_i, acc, s_next, v_smem, v_ready, j, p_layout, rows, STAGES)
        else:
            s = warpgroup_mma(q_smem, k_next, zero, use_acc=False)
            n_skip, n_skip_pairs = _skip(n_skip, n_skip_pairs, pairs, COUNT)
    else:
        _ready(k_ready, j + 1, STAGES)
        s_next = warpgroup_mma(q_smem, k_next, zero, use_acc=False, is_async=True)
        m_test, keep = _vote_test(m_local, m_test, log2_lambda, SKIP, ROW_SHIFT)
        if SKIP:
            # tile j-1 was skipped: its V slot is freed now, once V_{j-1}'s barrier has completed
            _ready(v_ready, j - 1, STAGES)
            _release(v_empty, j - 1, STAGES)
            _publish(flags, decided, j, keep, consumer)
        if keep:
            s, acc, m_i, l_i = _keep(qk, m_local, m_i, l_i, acc, s_next, v_smem, v_ready, j, p_layout, rows, STAGES)
        else:
            s = warpgroup_mma_wait(0, deps=(s_next,))
            n_skip, n_skip_pairs = _skip(n_skip, n_skip_pairs, pairs, COUNT)
    qk = s * qk_scale
    m_local = gl.max(qk, axis=1)
    _release(k_empty, j + 1, STAGES)
    if keep:
        _release(v_empty, j, STAGES)
    return qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs


@gluon.jit
def _consumer(q_desc, o_desc, q_smem, q_bar, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, flags, decided,
              Counts,
              q_row, counts_index, n_tiles, qk_scale, log2_lambda,
              STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, ROW_SHIFT: gl.constexpr):
    BM: gl.constexpr = q_desc.block_type.shape[0]
    BN: gl.constexpr = k_smem.type.shape[1]
    D: gl.constexpr = q_desc.block_type.shape[1]
    gl.static_assert(BN == D)
    mma: gl.constexpr = gl.NVMMADistributedLayout(version=[3, 0], warps_per_cta=[4, 1], instr_shape=[16, BN, 16])
    p_layout: gl.constexpr = gl.DotOperandLayout(operand_index=0, parent=mma, k_width=2)
    rows: gl.constexpr = gl.SliceLayout(1, mma)
    cols: gl.constexpr = gl.SliceLayout(0, mma)

    if SKIP:
        _declare_vote(ROW_SHIFT)
    mbarrier.expect(q_bar, q_desc.block_type.nbytes)
    tma.async_copy_global_to_shared(q_desc, [q_row, 0], q_bar, q_smem)
    zero = gl.zeros([BM, BN], gl.float32, layout=mma)
    mbarrier.wait(q_bar, 0)
    _ready(k_ready, 0, STAGES)
    qk = warpgroup_mma(q_smem, k_smem.index(0).permute((1, 0)), zero, use_acc=False) * qk_scale
    _release(k_empty, 0, STAGES)
    m_local = gl.max(qk, axis=1)
    m_test = gl.full([BM], float('-inf'), gl.float32, layout=rows)
    keep = True  # the first tile is tested in the kept order, and never skipped
    if SKIP:
        keep = gl.to_tensor(True)
    acc = gl.zeros([BM, D], gl.float32, layout=mma)
    m_i = gl.full([BM], float('-inf'), gl.float32, layout=rows)
    l_i = gl.zeros([BM], gl.float32, layout=rows)
    n_skip = gl.to_tensor(0)
    n_skip_pairs = gl.to_tensor(0)
    for j in range(0, n_tiles - 1):
        qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs = _consumer_step(
            j, qk, m_local, m_test, keep, acc, m_i, l_i, n_skip, n_skip_pairs,
            q_smem, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, flags, decided,
            zero, qk_scale, log2_lambda, p_layout, rows, STAGES, SKIP, COUNT, ROW_SHIFT)

    # The last tile is the diagonal: its row max is taken again under the causal mask, then its test (qk is scaled).
    last = n_tiles - 1
    if SKIP:
        if not keep:
            _ready(v_ready, last - 1, STAGES)
            _release(v_empty, last - 1, STAGES)
    qk, m_local, m_test, keep = _scores(qk, m_test, 1.0, log2_lambda, rows, cols, SKIP, True, ROW_SHIFT)
    if SKIP:
        _publish(flags, decided, last, keep, ROW_SHIFT // BM)
    _ready(v_ready, last, STAGES)
    if keep:
        p, acc, m_i, l_i = _absorb(qk, m_local, m_i, l_i, acc, rows)
        acc = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(last % STAGES), acc)
    elif COUNT:
        n_skip += 1
        n_skip_pairs += BM * (BM + 1) // 2 + ROW_SHIFT * BM
    _release(v_empty, last, STAGES)

    _finish(acc, l_i, rows, o_desc, q_smem, q_row, Counts, counts_index, n_tiles, n_skip, n_skip_pairs, COUNT)


@gluon.jit
def prefill_ws_kernel(q_desc, k_desc, v_desc, o_desc, Counts, qk_scale, log2_lambda, seq_len,
                      GROUP: gl.constexpr, STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr,
                      CONSUMER_REGS: gl.constexpr):
    BM: gl.constexpr = q_desc.block_type.shape[0]
    BN: gl.constexpr = k_desc.block_type.shape[0]
    gl.static_assert(BN == 2 * BM)
    # Heaviest query blocks (most KV tiles under the causal mask) first, so the tail of the grid is short ones.
    n_blocks = gl.num_programs(0)
    block = n_blocks - 1 - gl.program_id(0)
    head = gl.program_id(1)
    q_row = head * seq_len + block * BN
    kv_row = (head // GROUP) * seq_len
    n_tiles = block + 1
    counts_index = (head * n_blocks + block) * 2

    q_smem = gl.allocate_shared_memory(q_desc.dtype, [2] + q_desc.block_type.shape, q_desc.layout)
    k_smem = gl.allocate_shared_memory(k_desc.dtype, [STAGES] + k_desc.block_type.shape, k_desc.layout)
    v_smem = gl.allocate_shared_memory(v_desc.dtype, [STAGES] + v_desc.block_type.shape, v_desc.layout)
    q_bars = gl.allocate_shared_memory(gl.int64, [2, 1], mbarrier.MBarrierLayout())
    k_ready = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_ready = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    k_empty = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_empty = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    # the consumers' decisions for the V producer (unused by the dense twin): a rank-1 layout for a
    # [DECISION_SLOTS, 2] buffer, so that .index(slot) gives the slot's pair
    flags = gl.allocate_shared_memory(gl.int32, [DECISION_SLOTS, 2], gl.SwizzledSharedLayout(1, 1, 1, order=[0]))
    decided = gl.allocate_shared_memory(gl.int64, [DECISION_SLOTS, 1], mbarrier.MBarrierLayout())
    for i in gl.static_range(DECISION_SLOTS):
        mbarrier.init(decided.index(i), count=2)
    for i in gl.static_range(2):
        mbarrier.init(q_bars.index(i), count=1)
    for i in gl.static_range(STAGES):
        mbarrier.init(k_ready.index(i), count=1)
        mbarrier.init(v_ready.index(i), count=1)
        mbarrier.init(k_empty.index(i), count=2)
        mbarrier.init(v_empty.index(i), count=2)

    # The skip arm adds the V producer. warp_specialize takes its partitions as a literal list, so both arms spell out
    # their consumers.
    if SKIP:
        gl.warp_specialize([
            (_consumer, (q_desc, o_desc, q_smem.index(0), q_bars.index(0), k_smem, v_smem, k_ready, v_ready, k_empty,
                         v_empty, flags, decided, Counts, q_row, counts_index, n_tiles, qk_scale, log2_lambda, STAGES,
                         SKIP, COUNT, 0)),
            (_consumer, (q_desc, o_desc, q_smem.index(1), q_bars.index(1), k_smem, v_smem, k_ready, v_ready, k_empty,
                         v_empty, flags, decided, Counts, q_row + BM, counts_index + 1, n_tiles, qk_scale,
                         log2_lambda, STAGES, SKIP, COUNT, BM)),
            (_k_producer, (k_desc, k_smem, k_ready, k_empty, kv_row, n_tiles, STAGES)),
            (_v_producer, (v_desc, v_smem, v_ready, v_empty, flags, decided, kv_row, n_tiles, STAGES)),
        ], [4, 1, 1], [CONSUMER_REGS, 24, 24])
    else:
        gl.warp_specialize([
            (_consumer, (q_desc, o_desc, q_smem.index(0), q_bars.index(0), k_smem, v_smem, k_ready, v_ready, k_empty,
                         v_empty, flags, decided, Counts, q_row, counts_index, n_tiles, qk_scale, log2_lambda, STAGES,
                         SKIP, COUNT, 0)),
            (_consumer, (q_desc, o_desc, q_smem.index(1), q_bars.index(1), k_smem, v_smem, k_ready, v_ready, k_empty,
                         v_empty, flags, decided, Counts, q_row + BM, counts_index + 1, n_tiles, qk_scale,
                         log2_lambda, STAGES, SKIP, COUNT, BM)),
            (_producer, (k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles, STAGES)),
        ], [4, 1], [CONSUMER_REGS, 24])


def prefill_ws(q, k, v, out, factor, stages=STAGES, consumer_regs=240, counts=None):
    """
    Same contract as prefill.prefill with BLOCK_M = 64, BLOCK_N = 128: q [Hq, L, D], k/v [Hkv, L, D] bf16
    contiguous; out like q; factor 0 = dense. counts: int32 [Hq, L / 64, 3] (visited tiles, skipped tiles, skipped
    causal pairs) per 64-row query tile.
    """
    hq, seq_len, head_dim = q.shape
    if not supported(seq_len, head_dim, BLOCK_M, BLOCK_N):
        raise ValueError(f'prefill_ws needs head_dim {HEAD_DIM} and L a multiple of {BLOCK_N} '
                         f'(got {head_dim}, {seq_len})')
    args, flags = launch_arguments('prefill_ws', q, k, v, out, factor, counts, BLOCK_M, BLOCK_N)
    prefill_ws_kernel[(seq_len // BLOCK_N, hq)](*args, **flags, STAGES=stages, CONSUMER_REGS=consumer_regs, num_warps=4)
    return out
