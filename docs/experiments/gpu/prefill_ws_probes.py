"""
Timing probes of the warp-specialised prefill kernel (docs/gpu-results.md, logs 14 and 15 in docs/gpu/). Each variant
is derived from kernels/gpu/prefill_ws.py by the substitutions below, checked to apply exactly once, so a probe
fails loudly instead of timing a stale copy when the kernel changes. On a Hopper GPU, from the repository root:

  python3 docs/experiments/gpu/prefill_ws_probes.py v-traffic 32768,131072   # A, B = V never loaded, C = A via LOAD_V
  python3 docs/experiments/gpu/prefill_ws_probes.py kv-rings 32768,131072    # A vs separate K/V rings (DkxV)

REPS (default 11) sets the interleaved rounds and CONFIGS (default 3x3,4x2,5x1) the rings. The workload is the GPU
default: the synthetic default mix four times over (32 query / 8 KV heads, d = 128), seed 1. Every call is timed with
CUDA events after the L2 is flushed (256 MB zeroed). B is a timing probe only: its kept tiles read stale V.
"""
import importlib.util
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())
import torch  # noqa: E402

from kernels.gpu import prefill_gluon as pg  # noqa: E402
from kernels.gpu import prefill_ws as base  # noqa: E402
from workloads.patterns.synthetic import SyntheticWorkload, TorchOps  # noqa: E402

MIX = ['sink', 'sink', 'local', 'local', 'vertical', 'slash', 'retrieval', 'sink'] * 4
HQ, HKV, D = 32, 8, 128
FACTORS = (0, 25, 80, 500, 1e9)

# LOAD_V constexpr around every V load, wait and release (False: the producer never loads V).
NO_V = [
    ("""        mbarrier.wait(v_empty.index(slot), free)
        mbarrier.expect(v_ready.index(slot), v_desc.block_type.nbytes)
        tma.async_copy_global_to_shared(v_desc, [kv_row + t * v_desc.block_type.shape[0], 0], v_ready.index(slot),
                                        v_smem.index(slot))""",
     """        if LOAD_V:
            mbarrier.wait(v_empty.index(slot), free)
            mbarrier.expect(v_ready.index(slot), v_desc.block_type.nbytes)
            tma.async_copy_global_to_shared(v_desc, [kv_row + t * v_desc.block_type.shape[0], 0],
                                            v_ready.index(slot), v_smem.index(slot))"""),
    ("""def _producer(k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles,
              STAGES: gl.constexpr):""",
     """def _producer(k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles,
              STAGES: gl.constexpr, LOAD_V: gl.constexpr):"""),
    ("""        _ready(v_ready, j, STAGES)
        pv = warpgroup_mma""",
     """        if LOAD_V:
            _ready(v_ready, j, STAGES)
        pv = warpgroup_mma"""),
    ("""        _release(k_empty, j + 1, STAGES)
        _release(v_empty, j, STAGES)
        qk, m_local""",
     """        _release(k_empty, j + 1, STAGES)
        if LOAD_V:
            _release(v_empty, j, STAGES)
        qk, m_local"""),
    ("""        _ready(v_ready, j, STAGES)
        _release(v_empty, j, STAGES)
        if COUNT:""",
     """        if LOAD_V:
            _ready(v_ready, j, STAGES)
            _release(v_empty, j, STAGES)
        if COUNT:"""),
    ("""    last = n_tiles - 1
    _ready(v_ready, last, STAGES)""",
     """    last = n_tiles - 1
    if LOAD_V:
        _ready(v_ready, last, STAGES)"""),
    ("""        n_skip_pairs += BM * (BM + 1) // 2 + ROW_SHIFT * BM
    _release(v_empty, last, STAGES)""",
     """        n_skip_pairs += BM * (BM + 1) // 2 + ROW_SHIFT * BM
    if LOAD_V:
        _release(v_empty, last, STAGES)"""),
    ("""                   STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, DIAGONAL_NEXT: gl.constexpr,
                   ROW_SHIFT: gl.constexpr):""",
     """                   STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, DIAGONAL_NEXT: gl.constexpr,
                   ROW_SHIFT: gl.constexpr, LOAD_V: gl.constexpr):"""),
    ("""              STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, ROW_SHIFT: gl.constexpr):""",
     """              STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, ROW_SHIFT: gl.constexpr,
              LOAD_V: gl.constexpr):"""),
    ("""zero, qk_scale, log2_lambda, p_layout, rows, cols, STAGES, SKIP, COUNT, False, ROW_SHIFT)""",
     """zero, qk_scale, log2_lambda, p_layout, rows, cols, STAGES, SKIP, COUNT, False, ROW_SHIFT, LOAD_V)"""),
    ("""zero, qk_scale, log2_lambda, p_layout, rows, cols, STAGES, SKIP, COUNT, True, ROW_SHIFT)""",
     """zero, qk_scale, log2_lambda, p_layout, rows, cols, STAGES, SKIP, COUNT, True, ROW_SHIFT, LOAD_V)"""),
    ("""                      CONSUMER_REGS: gl.constexpr):""",
     """                      CONSUMER_REGS: gl.constexpr, LOAD_V: gl.constexpr):"""),
    ("""v_empty, Counts, q_row, counts_index, n_tiles, qk_scale, log2_lambda, STAGES, SKIP, COUNT, 0)),""",
     """v_empty, Counts, q_row, counts_index, n_tiles, qk_scale, log2_lambda, STAGES, SKIP, COUNT, 0, LOAD_V)),"""),
    ("""                     BM)),
        (_producer, (k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles, STAGES)),""",
     """                     BM, LOAD_V)),
        (_producer, (k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles, STAGES,
                     LOAD_V)),"""),
]

# A K ring of K_STAGES and a V ring of V_STAGES slots, V_t issued K_STAGES - V_STAGES tiles behind K_t.
KV_RINGS = [
    ("""@gluon.jit
def _producer(k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles,
              STAGES: gl.constexpr):
    for t in range(n_tiles):
        slot = t % STAGES
        # a fresh mbarrier counts as having completed the phase before 0, so the first round passes
        free = ((t // STAGES) & 1) ^ 1
        mbarrier.wait(k_empty.index(slot), free)
        mbarrier.expect(k_ready.index(slot), k_desc.block_type.nbytes)
        tma.async_copy_global_to_shared(k_desc, [kv_row + t * k_desc.block_type.shape[0], 0], k_ready.index(slot),
                                        k_smem.index(slot))
        mbarrier.wait(v_empty.index(slot), free)
        mbarrier.expect(v_ready.index(slot), v_desc.block_type.nbytes)
        tma.async_copy_global_to_shared(v_desc, [kv_row + t * v_desc.block_type.shape[0], 0], v_ready.index(slot),
                                        v_smem.index(slot))""",
     """@gluon.jit
def _load(desc, bars_empty, bars_ready, smem, kv_row, t, STAGES: gl.constexpr):
    slot = t % STAGES
    # a fresh mbarrier counts as having completed the phase before 0, so the first round passes
    mbarrier.wait(bars_empty.index(slot), ((t // STAGES) & 1) ^ 1)
    mbarrier.expect(bars_ready.index(slot), desc.block_type.nbytes)
    tma.async_copy_global_to_shared(desc, [kv_row + t * desc.block_type.shape[0], 0], bars_ready.index(slot),
                                    smem.index(slot))


@gluon.jit
def _producer(k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles,
              K_STAGES: gl.constexpr, V_STAGES: gl.constexpr):
    LAG: gl.constexpr = K_STAGES - V_STAGES
    for t in range(n_tiles + LAG):
        if t < n_tiles:
            _load(k_desc, k_empty, k_ready, k_smem, kv_row, t, K_STAGES)
        if t >= LAG:
            _load(v_desc, v_empty, v_ready, v_smem, kv_row, t - LAG, V_STAGES)"""),
    ("""                   STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, DIAGONAL_NEXT: gl.constexpr,
                   ROW_SHIFT: gl.constexpr):
    _ready(k_ready, j + 1, STAGES)
    k_next = k_smem.index((j + 1) % STAGES).permute((1, 0))""",
     """                   K_STAGES: gl.constexpr, V_STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr,
                   DIAGONAL_NEXT: gl.constexpr, ROW_SHIFT: gl.constexpr):
    _ready(k_ready, j + 1, K_STAGES)
    k_next = k_smem.index((j + 1) % K_STAGES).permute((1, 0))"""),
    ("""        _ready(v_ready, j, STAGES)
        pv = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(j % STAGES), acc, is_async=True)
        s, acc = warpgroup_mma_wait(0, deps=(s_next, pv))
        _release(k_empty, j + 1, STAGES)
        _release(v_empty, j, STAGES)""",
     """        _ready(v_ready, j, V_STAGES)
        pv = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(j % V_STAGES), acc, is_async=True)
        s, acc = warpgroup_mma_wait(0, deps=(s_next, pv))
        _release(k_empty, j + 1, K_STAGES)
        _release(v_empty, j, V_STAGES)"""),
    ("""        _release(k_empty, j + 1, STAGES)
        # V_j is released unread, but only once it has landed: the next TMA into the slot must not overlap it
        _ready(v_ready, j, STAGES)
        _release(v_empty, j, STAGES)""",
     """        _release(k_empty, j + 1, K_STAGES)
        # V_j is released unread, but only once it has landed: the next TMA into the slot must not overlap it
        _ready(v_ready, j, V_STAGES)
        _release(v_empty, j, V_STAGES)"""),
    ("""              STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr, ROW_SHIFT: gl.constexpr):""",
     """              K_STAGES: gl.constexpr, V_STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr,
              ROW_SHIFT: gl.constexpr):"""),
    ("""    _ready(k_ready, 0, STAGES)
    s = warpgroup_mma(q_smem, k_smem.index(0).permute((1, 0)), zero, use_acc=False)
    _release(k_empty, 0, STAGES)""",
     """    _ready(k_ready, 0, K_STAGES)
    s = warpgroup_mma(q_smem, k_smem.index(0).permute((1, 0)), zero, use_acc=False)
    _release(k_empty, 0, K_STAGES)"""),
    ("""zero, qk_scale, log2_lambda, p_layout, rows, cols, STAGES, SKIP, COUNT, False, ROW_SHIFT)""",
     """zero, qk_scale, log2_lambda, p_layout, rows, cols, K_STAGES, V_STAGES, SKIP, COUNT, False, ROW_SHIFT)"""),
    ("""zero, qk_scale, log2_lambda, p_layout, rows, cols, STAGES, SKIP, COUNT, True, ROW_SHIFT)""",
     """zero, qk_scale, log2_lambda, p_layout, rows, cols, K_STAGES, V_STAGES, SKIP, COUNT, True, ROW_SHIFT)"""),
    ("""    last = n_tiles - 1
    _ready(v_ready, last, STAGES)
    if keep:
        p, acc, m_i, l_i = _absorb(qk, m_local, m_i, l_i, acc, rows)
        acc = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(last % STAGES), acc)""",
     """    last = n_tiles - 1
    _ready(v_ready, last, V_STAGES)
    if keep:
        p, acc, m_i, l_i = _absorb(qk, m_local, m_i, l_i, acc, rows)
        acc = warpgroup_mma(gl.convert_layout(p, p_layout), v_smem.index(last % V_STAGES), acc)"""),
    ("""    _release(v_empty, last, STAGES)""",
     """    _release(v_empty, last, V_STAGES)"""),
    ("""                      GROUP: gl.constexpr, STAGES: gl.constexpr, SKIP: gl.constexpr, COUNT: gl.constexpr,
                      CONSUMER_REGS: gl.constexpr):""",
     """                      GROUP: gl.constexpr, K_STAGES: gl.constexpr, V_STAGES: gl.constexpr, SKIP: gl.constexpr,
                      COUNT: gl.constexpr, CONSUMER_REGS: gl.constexpr):"""),
    ("""    k_smem = gl.allocate_shared_memory(k_desc.dtype, [STAGES] + k_desc.block_type.shape, k_desc.layout)
    v_smem = gl.allocate_shared_memory(v_desc.dtype, [STAGES] + v_desc.block_type.shape, v_desc.layout)""",
     """    k_smem = gl.allocate_shared_memory(k_desc.dtype, [K_STAGES] + k_desc.block_type.shape, k_desc.layout)
    v_smem = gl.allocate_shared_memory(v_desc.dtype, [V_STAGES] + v_desc.block_type.shape, v_desc.layout)"""),
    ("""    k_ready = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_ready = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    k_empty = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_empty = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())""",
     """    k_ready = gl.allocate_shared_memory(gl.int64, [K_STAGES, 1], mbarrier.MBarrierLayout())
    v_ready = gl.allocate_shared_memory(gl.int64, [V_STAGES, 1], mbarrier.MBarrierLayout())
    k_empty = gl.allocate_shared_memory(gl.int64, [K_STAGES, 1], mbarrier.MBarrierLayout())
    v_empty = gl.allocate_shared_memory(gl.int64, [V_STAGES, 1], mbarrier.MBarrierLayout())"""),
    ("""    for i in gl.static_range(STAGES):
        mbarrier.init(k_ready.index(i), count=1)
        mbarrier.init(v_ready.index(i), count=1)
        mbarrier.init(k_empty.index(i), count=2)
        mbarrier.init(v_empty.index(i), count=2)""",
     """    for i in gl.static_range(K_STAGES):
        mbarrier.init(k_ready.index(i), count=1)
        mbarrier.init(k_empty.index(i), count=2)
    for i in gl.static_range(V_STAGES):
        mbarrier.init(v_ready.index(i), count=1)
        mbarrier.init(v_empty.index(i), count=2)"""),
    ("""v_empty, Counts, q_row, counts_index, n_tiles, qk_scale, log2_lambda, STAGES, SKIP, COUNT, 0)),""",
     """v_empty, Counts, q_row, counts_index, n_tiles, qk_scale, log2_lambda, K_STAGES, V_STAGES, SKIP, COUNT,
                     0)),"""),
    ("""                     v_empty, Counts, q_row + BM, counts_index + 1, n_tiles, qk_scale, log2_lambda, STAGES, SKIP, COUNT,
                     BM)),
        (_producer, (k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles, STAGES)),""",
     """                     v_empty, Counts, q_row + BM, counts_index + 1, n_tiles, qk_scale, log2_lambda, K_STAGES, V_STAGES,
                     SKIP, COUNT, BM)),
        (_producer, (k_desc, v_desc, k_smem, v_smem, k_ready, v_ready, k_empty, v_empty, kv_row, n_tiles, K_STAGES,
                     V_STAGES)),"""),
]


def variant(name, substitutions):
    """kernels/gpu/prefill_ws.py with the substitutions applied, imported from a file (Gluon reads its source)."""
    with open(base.__file__) as f:
        src = f.read()
    for old, new in substitutions:
        if src.count(old) != 1:
            raise SystemExit(f'{name}: the kernel changed, this substitution no longer applies:\n{old}')
        src = src.replace(old, new)
    path = os.path.join(tempfile.mkdtemp(prefix='skipbench-probe-'), f'{name}.py')
    with open(path, 'w') as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def workload(L):
    wl = SyntheticWorkload(TorchOps('cuda'), 1, MIX, HKV, D)
    bf = torch.bfloat16
    k = torch.empty((HKV, L, D), dtype=bf, device='cuda')
    v = torch.empty_like(k)
    for g in range(HKV):
        kk, vv = wl.keys_values(L, g)
        k[g], v[g] = kk.to(bf), vv.to(bf)
    q = torch.empty((HQ, L, D), dtype=bf, device='cuda')
    for h in range(HQ):
        for s0 in range(0, L, 1 << 15):
            q[h, s0:min(L, s0 + (1 << 15))] = wl.queries(L, h, s0, min(L, s0 + (1 << 15))).to(bf)
    return q, k, v


def median_times(arms, reps):
    """Median CUDA-event time (ms) per arm over `reps` interleaved rounds, L2 flushed before every call."""
    flush = torch.empty(256 * 1024 * 1024, dtype=torch.int8, device='cuda')
    times = {a: [] for a in arms}
    for fn in arms.values():
        fn()
    for _ in range(reps):
        for a, fn in arms.items():
            flush.zero_()
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn()
            e1.record()
            torch.cuda.synchronize()
            times[a].append(e0.elapsed_time(e1))
    return {a: statistics.median(t) for a, t in times.items()}


def main():
    mode, lengths = sys.argv[1], [int(x) for x in sys.argv[2].split(',')]
    reps = int(os.environ.get('REPS', '11'))
    if mode == 'v-traffic':
        probe = variant('prefill_ws_no_v', NO_V)
        kernels = {'A': (base, {'STAGES': 3}), 'B': (probe, {'STAGES': 3, 'LOAD_V': False}),
                   'C': (probe, {'STAGES': 3, 'LOAD_V': True})}
    elif mode == 'kv-rings':
        probe = variant('prefill_ws_kv_rings', KV_RINGS)
        kernels = {'A': (base, {'STAGES': 3})}
        for config in os.environ.get('CONFIGS', '3x3,4x2,5x1').split(','):
            ks, vs = (int(x) for x in config.split('x'))
            kernels[f'D{config}'] = (probe, {'K_STAGES': ks, 'V_STAGES': vs})
    else:
        raise SystemExit('mode: v-traffic | kv-rings')
    for L in lengths:
        t0 = time.time()
        q, k, v = workload(L)
        print(f'L={L} generated in {time.time() - t0:.1f} s', flush=True)

        def launch(name, factor, out, counts=None):
            module, flags = kernels[name]
            args, common = pg.launch_arguments('probe', q, k, v, out, factor, counts, 64, 128)
            return module.prefill_ws_kernel[(L // 128, HQ)](*args, **common, **flags, CONSUMER_REGS=240, num_warps=4)

        arms, reference = {}, {}
        for name in kernels:
            for f in FACTORS:
                out = torch.empty_like(q)
                counts = torch.zeros((HQ, L // 64, 3), dtype=torch.int32, device='cuda')
                compiled = launch(name, f, out, counts)
                torch.cuda.synchronize()
                c = counts.sum(dim=(0, 1)).tolist()
                check = ''
                if name == 'A':
                    reference[f] = (out.clone(), c)
                elif mode == 'kv-rings':
                    a, ca = reference[f]
                    rel = ((out.float() - a.float()).norm() / a.float().norm()).item()
                    check = f' counters equal {c == ca} rel L2 vs A {rel:.1e}'
                print(f'  {name} f={f:g}: regs {compiled.n_regs} spills {compiled.n_spills} '
                      f'sparsity {c[1] / c[0]:.4f}{check}', flush=True)
                spare = torch.empty_like(q)
                arms[f'{name}@{f:g}'] = (lambda name=name, f=f, spare=spare: launch(name, f, spare))
        med = median_times(arms, reps)
        for name in kernels:
            own, dense = med[f'{name}@0'], med['A@0']
            cells = ', '.join(f'@{f:g} {med[f"{name}@{f:g}"]:.3f} ms (A-dense/x {dense / med[f"{name}@{f:g}"]:.3f})'
                              for f in FACTORS[1:])
            print(f'  {name}: own dense {own:.3f} ms (vs A {own / dense:.3f}); {cells}', flush=True)


if __name__ == '__main__':
    main()
