"""
One prepared (context, phase) on the GPU: the workload generated from its spec and seed, every arm run once with
counters on, checked against the float32 reference, and compared with the dense arm. What `prepare` answers, and
the callables `time` runs.
"""
import importlib
import math

from kernels.gpu import reference
from kernels.gpu.decode import DecodeWorkspace, decode
from kernels.gpu.prefill import prefill
from workloads.patterns.synthetic import PATTERNS, SyntheticWorkload, TorchOps

BF16_BYTES = 2
ANCHORS = {'prefill': ('sdpa-flash', 'sdpa-cudnn'), 'decode': ('sdpa-flash',)}


class RequestError(Exception):
    code = 'SKB_CONFIG'


def field(request, path, check, allowed):
    value = request
    for key in path.split('.'):
        value = value.get(key) if isinstance(value, dict) else None
    if not check(value):
        raise RequestError(f'{path} must be {allowed} (got {value!r})')
    return value


def is_int(lo, hi):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


class Prepared:
    def __init__(self, arms, report):
        self.arms = arms  # arm id -> zero-argument callable that runs it once (counters off)
        self.report = report


def prepare_phase(torch, request):
    phase = field(request, 'phase', lambda v: v in ('prefill', 'decode'), 'prefill | decode')
    length = field(request, 'context', is_int(16, 1 << 20), 'an integer in [16, 1048576]')
    batch = field(request, 'batch', is_int(1, 1024), 'an integer in [1, 1024]')
    hq = field(request, 'shape.numQueryHeads', is_int(1, 256), 'an integer in [1, 256]')
    hkv = field(request, 'shape.numKvHeads', lambda v: is_int(1, 64)(v) and hq % v == 0, f'a divisor of {hq} in [1, 64]')
    d = field(request, 'shape.headDim', lambda v: v in (64, 128), '64 | 128')
    seed = field(request, 'workload.seed', is_int(0, 2 ** 32 - 1), 'an integer in [0, 2^32 - 1]')
    patterns = field(request, 'workload.headPatterns',
                     lambda v: isinstance(v, list) and len(v) == hq and all(p in PATTERNS for p in v),
                     f'{hq} pattern names ({" | ".join(PATTERNS)})')
    tolerance = field(request, 'tolerance', lambda v: isinstance(v, (int, float)) and 0 < v < 1, 'a number in (0, 1)')
    arms = field(request, 'arms', lambda v: isinstance(v, list) and len(v) > 0 and v[0].get('factor') == 0,
                 'a non-empty list whose first arm is dense ({"id", "factor": 0})')
    for arm in arms:
        if 'anchor' in arm:
            if arm['anchor'] not in ANCHORS[phase]:
                raise RequestError(f'arms[].anchor must be {" | ".join(ANCHORS[phase])} for {phase} (got {arm["anchor"]!r})')
        elif not (isinstance(arm.get('factor'), (int, float)) and arm['factor'] >= 0):
            raise RequestError(f'arms[].factor must be a number >= 0 (got {arm.get("factor")!r})')
    workload = SyntheticWorkload(TorchOps('cuda'), seed, patterns, hkv, d)
    if phase == 'prefill':
        block_m = field(request, 'tiles.blockM', lambda v: v in (16, 32, 64, 128, 256), '16 | 32 | 64 | 128 | 256')
        block_n = field(request, 'tiles.blockN', lambda v: v in (16, 32, 64, 128, 256), '16 | 32 | 64 | 128 | 256')
        if batch != 1:
            raise RequestError(f'batch must be 1 for prefill (got {batch})')
        # Measured on an H100 (docs/gpu-results.md): 8 warps for 128-row tiles, 4 for 64-row ones; 3 stages.
        launch = launch_options(request, warps=8 if block_m >= 128 else 4, stages=3)
        return PrefillPhase(torch, workload, length, hq, hkv, d, block_m, block_n, arms, tolerance, launch).prepared()
    block_n = field(request, 'tiles.blockN', lambda v: v in (16, 32, 64, 128, 256), '16 | 32 | 64 | 128 | 256')
    partitions = field(request, 'tiles.partitions', lambda v: is_int(1, 1024)(v) and v & (v - 1) == 0,
                       'a power of two in [1, 1024]')
    launch = launch_options(request, warps=4, stages=2)
    return DecodePhase(torch, workload, length, batch, hq, hkv, d, block_n, partitions, arms, tolerance, launch).prepared()


def launch_options(request, warps, stages):
    """Triton launch options (tiles.numWarps, tiles.numStages): they change speed, never results."""
    options = {
        'num_warps': field(request, 'tiles.numWarps', lambda v: v is None or v in (2, 4, 8, 16), '2 | 4 | 8 | 16') or warps,
        'num_stages': field(request, 'tiles.numStages', lambda v: v is None or is_int(1, 6)(v), 'an integer in [1, 6]') or stages,
    }
    if request.get('phase') == 'prefill':
        kernel = field(request, 'tiles.kernel', lambda v: v is None or v in ('triton', 'gluon', 'gluon-ws'),
                       'triton | gluon | gluon-ws')
        gluon = gluon_supports('prefill_gluon', request)
        gluon_ws = gluon_supports('prefill_ws', request)
        if kernel == 'gluon-ws' and not gluon_ws:
            raise RequestError('tiles.kernel gluon-ws needs Triton with Gluon, headDim 128, 64x128 tiles and a context '
                               'that is a multiple of 128')
        if kernel == 'gluon' and not gluon:
            raise RequestError('tiles.kernel gluon needs Triton with Gluon, headDim 128, 64x64 or 128x128 tiles and a '
                               'context that is a multiple of the tile (use triton)')
        # H100 (docs/gpu-results.md): the Gluon kernels' dense twins are 1.3-1.4x faster than Triton's, and their skip
        # arms keep the overlap that Triton loses under the skip branch
        options['kernel'] = kernel or ('gluon-ws' if gluon_ws else 'gluon' if gluon else 'triton')
        if options['kernel'] == 'gluon-ws':
            # fixed by the kernel: two consumer warpgroups and one TMA producer warp (the skip arms add a V producer)
            options['num_warps'] = 9
    if request.get('phase') == 'decode':
        # Two tiles per iteration with predicated V loads: 1.32x instead of 1.22x at 49% sparsity (H100, 128K, B=32).
        paired = field(request, 'tiles.paired', lambda v: v is None or isinstance(v, bool), 'true | false')
        options['paired'] = True if paired is None else paired
    return options


def gluon_supports(module, request):
    """Whether kernels.gpu.<module> (a Gluon kernel) runs this request's prefill: False on a Triton without Gluon."""
    try:
        supported = importlib.import_module(f'kernels.gpu.{module}').supported
    except ImportError:  # a Triton without Gluon's Hopper API
        return False
    tiles = request.get('tiles') or {}
    return supported(request.get('context'), (request.get('shape') or {}).get('headDim'), tiles.get('blockM'),
                     tiles.get('blockN'))


def relative_error(torch, actual, expected):
    a, e = actual.float(), expected.float()
    diff = torch.linalg.vector_norm(a - e).item()
    norm = torch.linalg.vector_norm(e).item()
    return {'relativeL2': diff / norm if norm > 0 else diff, 'maxAbs': (a - e).abs().max().item()}


def counters(visited, skipped, flops, dense_flops, bytes_, dense_bytes):
    return {'visitedTiles': int(visited), 'skippedTiles': int(skipped), 'flops': float(flops),
            'denseFlops': float(dense_flops), 'bytes': float(bytes_), 'denseBytes': float(dense_bytes)}


def check_failed(checks):
    bad = [c for c in checks if not c['passed']]
    if bad:
        detail = '; '.join(f"{c['arm']}: relative L2 {c['relativeL2']:.3g} > {c['tolerance']:.3g}" for c in bad)
        error = RequestError(f'reference check failed before timing ({detail})')
        error.code = 'SKB_GPU_CHECK_FAILED'
        raise error


class Phase:
    """What prefill and decode share: run every arm once with counters on, check, compare with dense."""

    def prepared(self):
        torch, specs = self.torch, self.arm_specs
        outs, heads, callables = {}, {}, {}
        # The timed calls' outputs are never read: one scratch buffer serves every arm (1 GiB saved per arm at 128K).
        scratch = torch.empty_like(self.q)
        for spec in specs:
            kernel_arm = spec.get('anchor') is None
            out = torch.empty_like(self.q)
            counts = self.new_counts() if kernel_arm else None
            self.run_arm(spec, out, counts)()
            torch.cuda.synchronize()
            outs[spec['id']] = out
            callables[spec['id']] = self.run_arm(spec, scratch)
            # an anchor does the dense arm's work
            heads[spec['id']] = self.head_counters(counts) if kernel_arm else heads[specs[0]['id']]
        checks = self.reference_checks(outs)
        check_failed(checks)
        dense = outs[specs[0]['id']]
        launch = {'numWarps': self.launch['num_warps'], 'numStages': self.launch['num_stages']}
        for key in ('paired', 'kernel'):
            if key in self.launch:
                launch[key] = self.launch[key]
        report = {'arms': [], 'referenceCheck': checks, 'launch': launch, **self.report_extras()}
        for index, spec in enumerate(specs):
            entry = {'id': spec['id'], 'heads': heads[spec['id']]}
            if index > 0:
                out = outs[spec['id']]
                entry['error'] = relative_error(torch, out, dense)
                entry['headErrors'] = [relative_error(torch, self.head_view(out, h), self.head_view(dense, h))
                                       for h in range(len(heads[spec['id']]))]
            report['arms'].append(entry)
        return Prepared(callables, report)

    def report_extras(self):
        return {}


class PrefillPhase(Phase):
    def __init__(self, torch, workload, length, hq, hkv, d, block_m, block_n, arms, tolerance, launch):
        self.torch, self.L, self.hq, self.hkv, self.d, self.launch = torch, length, hq, hkv, d, launch
        self.block_m, self.block_n, self.arm_specs, self.tolerance = block_m, block_n, arms, tolerance
        bf16 = torch.bfloat16
        self.k = torch.empty((hkv, length, d), dtype=bf16, device='cuda')
        self.v = torch.empty_like(self.k)
        for g in range(hkv):
            k, v = workload.keys_values(length, g)
            self.k[g], self.v[g] = k.to(bf16), v.to(bf16)
        self.q = torch.empty((hq, length, d), dtype=bf16, device='cuda')
        chunk = 1 << 15
        for h in range(hq):
            for start in range(0, length, chunk):
                end = min(length, start + chunk)
                self.q[h, start:end] = workload.queries(length, h, start, end).to(bf16)

    def run_arm(self, spec, out, counts=None):
        torch, group = self.torch, self.hq // self.hkv
        anchor = spec.get('anchor')
        if anchor is None:
            warps, stages = self.launch['num_warps'], self.launch['num_stages']
            if self.launch['kernel'] == 'gluon-ws':
                from kernels.gpu.prefill_ws import prefill_ws
                return lambda: prefill_ws(self.q, self.k, self.v, out, spec['factor'], stages, counts=counts)
            if self.launch['kernel'] == 'gluon':
                # imported here: an older Triton without Gluon still runs the Triton kernel
                from kernels.gpu.prefill_gluon import prefill_gluon
                return lambda: prefill_gluon(self.q, self.k, self.v, out, spec['factor'], self.block_m, warps, stages,
                                             counts=counts)
            return lambda: prefill(self.q, self.k, self.v, out, spec['factor'], self.block_m, self.block_n, warps, stages,
                                   counts=counts)
        from torch.nn.attention import SDPBackend, sdpa_kernel
        sdpa = torch.nn.functional.scaled_dot_product_attention
        if anchor == 'sdpa-flash':
            def run():
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    out.copy_(sdpa(self.q[None], self.k[None], self.v[None], is_causal=True, enable_gqa=True)[0])
            return run
        if not hasattr(self, 'kv_repeated'):
            # cuDNN takes no GQA: K/V heads repeated once, outside every timed call.
            self.kv_repeated = (self.k.repeat_interleave(group, dim=0)[None], self.v.repeat_interleave(group, dim=0)[None])
        k_rep, v_rep = self.kv_repeated

        def run_cudnn():
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                out.copy_(sdpa(self.q[None], k_rep, v_rep, is_causal=True)[0])
        return run_cudnn

    def new_counts(self):
        n_m = -(-self.L // self.block_m)
        return self.torch.zeros((self.hq, n_m, 3), dtype=self.torch.int32, device='cuda')

    def head_view(self, out, head):
        return out[head]

    def head_counters(self, counts):
        """Per query head. FLOPs count causal (row, key) pairs as the CPU kernels do. Bytes count K and V of every
        visited tile: exact for dense and for the Triton and 128-row Gluon kernels, an upper bound for the
        warp-specialised kernel's skip arm, which loads V only for tiles kept or predicted kept."""
        L, d, bm, bn = self.L, self.d, self.block_m, self.block_n
        sums = counts.sum(dim=1).tolist()
        pairs = L * (L + 1) // 2
        dense_flops = 4 * d * pairs
        # K/V tiles are loaded once per program: the warp-specialised kernel's two 64-row consumers share theirs
        rows = 2 * bm if self.launch['kernel'] == 'gluon-ws' else bm
        kv_keys = sum(min(L, -(-min((m + 1) * rows, L) // bn) * bn) for m in range(-(-L // rows)))
        dense_bytes = 2 * kv_keys * d * BF16_BYTES + 2 * L * d * BF16_BYTES
        return [counters(visited, skipped, dense_flops - 2 * d * skipped_pairs, dense_flops, dense_bytes, dense_bytes)
                for visited, skipped, skipped_pairs in sums]

    def reference_checks(self, outs):
        """Whole query tiles at the start, a third, two thirds and the end, of every head, in float32."""
        torch, L, bm = self.torch, self.L, self.block_m
        n_m = -(-L // bm)
        tiles = sorted({0, n_m // 3, (2 * n_m) // 3, n_m - 1})
        rows = torch.cat([torch.arange(t * bm, min((t + 1) * bm, L), device='cuda') for t in tiles])
        checks = []
        reference_of = {}
        for spec in self.arm_specs:
            factor = 0 if spec.get('anchor') else spec['factor']
            if factor not in reference_of:
                reference_of[factor] = self.reference_rows(rows, factor)
            expected = reference_of[factor]
            actual = outs[spec['id']][:, rows].float()
            err = relative_error(torch, actual, expected)['relativeL2']
            checks.append({'arm': spec['id'], 'relativeL2': err, 'tolerance': self.tolerance,
                           'passed': bool(err <= self.tolerance),
                           'rows': f'query tiles {tiles} of {n_m} ({len(rows)} rows) x all {self.hq} heads, float32 '
                                   f'reference with the skip rule at factor {factor}'})
        return checks

    def reference_rows(self, rows, factor):
        torch, group = self.torch, self.hq // self.hkv
        out = torch.empty((self.hq, len(rows), self.d), dtype=torch.float32, device='cuda')
        for h in range(self.hq):
            kf, vf = self.k[h // group].float(), self.v[h // group].float()
            out[h] = reference.prefill_rows(torch, self.q[h, rows].float(), rows, kf, vf, factor, self.block_m,
                                            self.block_n)[0]
        return out


class DecodePhase(Phase):
    def __init__(self, torch, workload, length, batch, hq, hkv, d, block_n, partitions, arms, tolerance, launch):
        self.torch, self.L, self.B, self.hq, self.hkv, self.d, self.launch = torch, length, batch, hq, hkv, d, launch
        self.block_n, self.partitions, self.arm_specs, self.tolerance = block_n, partitions, arms, tolerance
        bf16 = torch.bfloat16
        self.k = torch.empty((batch, hkv, length, d), dtype=bf16, device='cuda')
        self.v = torch.empty_like(self.k)
        self.q = torch.empty((batch, hq, d), dtype=bf16, device='cuda')
        for b in range(batch):
            # Sequence b of the batch is the workload at seed + b: the same spec, distinct content.
            sequence = SyntheticWorkload(workload.ops, (workload.seed + b) % 2 ** 32, workload.patterns, hkv, d)
            for g in range(hkv):
                k, v = sequence.keys_values(length, g)
                self.k[b, g], self.v[b, g] = k.to(bf16), v.to(bf16)
            for h in range(hq):
                self.q[b, h] = sequence.queries(length, h, length - 1, length)[0].to(bf16)
        self.workspace = DecodeWorkspace(torch, batch, hkv, partitions, d, 'cuda')

    def run_arm(self, spec, out, counts=None):
        anchor = spec.get('anchor')
        if anchor is None:
            return lambda: decode(self.q, self.k, self.v, out, spec['factor'], self.workspace, self.block_n,
                                  counts=counts, **self.launch)
        from torch.nn.attention import SDPBackend, sdpa_kernel
        sdpa = self.torch.nn.functional.scaled_dot_product_attention

        def run():
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                out.copy_(sdpa(self.q[:, :, None], self.k, self.v, enable_gqa=True)[:, :, 0])
        return run

    def new_counts(self):
        return self.torch.zeros((self.B, self.hkv, self.partitions, 2), dtype=self.torch.int32, device='cuda')

    def head_view(self, out, kv_head):
        group = self.hq // self.hkv
        return out[:, kv_head * group:(kv_head + 1) * group]

    def report_extras(self):
        return {'partitions': self.partitions}

    def head_counters(self, counts):
        """Per KV head (the GQA group decides together), summed over the batch. Skipped tiles read no V."""
        L, d, bn, group = self.L, self.d, self.block_n, self.hq // self.hkv
        sums = counts.sum(dim=(0, 2)).tolist()
        dense_flops = self.B * 4 * d * group * L
        io = self.B * 2 * group * d * BF16_BYTES
        dense_bytes = self.B * 2 * L * d * BF16_BYTES + io
        return [counters(visited, skipped, dense_flops - skipped * 2 * d * group * bn, dense_flops,
                         dense_bytes - skipped * bn * d * BF16_BYTES, dense_bytes)
                for visited, skipped in sums]

    def reference_checks(self, outs):
        torch, group = self.torch, self.hq // self.hkv
        checked = sorted({0, self.B - 1})
        checks = []
        reference_of = {}
        for spec in self.arm_specs:
            factor = 0 if spec.get('anchor') else spec['factor']
            if factor not in reference_of:
                expected = torch.empty((len(checked), self.hq, self.d), dtype=torch.float32, device='cuda')
                for i, b in enumerate(checked):
                    for g in range(self.hkv):
                        expected[i, g * group:(g + 1) * group] = reference.decode_group(
                            torch, self.q[b, g * group:(g + 1) * group].float(), self.k[b, g].float(), self.v[b, g].float(),
                            factor, self.block_n, self.partitions)[0]
                reference_of[factor] = expected
            actual = outs[spec['id']][checked].float()
            err = relative_error(torch, actual, reference_of[factor])['relativeL2']
            checks.append({'arm': spec['id'], 'relativeL2': err, 'tolerance': self.tolerance,
                           'passed': bool(err <= self.tolerance),
                           'rows': f'sequences {checked} of {self.B} x all {self.hq} heads, float32 reference with the '
                                   f'skip rule at factor {factor}, {self.partitions} partitions'})
        return checks
