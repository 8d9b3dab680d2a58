"""
The synthetic attention workload of synthetic.ts, ported element for element so that the GPU path generates the
same Q/K/V from the same seed and head mix as the CPU path (within float rounding: the parity test in
test/workloads/synthetic-python.test.ts checks it against the TypeScript generator).

Every value is a counter-based hash of (seed, stream, head, position, component), computed on whole arrays at
once. The array library is a parameter: numpy on a CPU (the parity test), torch on a GPU (the runner). Hash
arithmetic runs in int64 holding uint32 values; the two 32-bit multiplies of mix32 are split in 16-bit halves so
that no product leaves int64.

Constants mirror constants.ts; keep the two in step (the parity test fails when they drift).
"""
import functools
import math

# ---- constants.ts ----
PATTERNS = {
    'sink': {'sink': 1.0, 'noiseStd': 1.0, 'contentStd': 1.0},
    'local': {'local': 3.0, 'sink': -1.0, 'noiseStd': 1.0, 'contentStd': 0.75},
    'vertical': {'vertical': 1.0, 'sink': -1.5, 'noiseStd': 1.0, 'contentStd': 1.0},
    'slash': {'slash': 1.5, 'noiseStd': 1.0, 'contentStd': 0.75},
    'retrieval': {'needle': 5.0, 'sink': -1.0, 'noiseStd': 1.0, 'contentStd': 1.0},
    'random': {'noiseStd': 1.0, 'contentStd': 0.5},
}
HEAD_OFFSET_JITTER = 0.5
SINK_KEY_WEIGHTS = [1.0, 0.9, 0.85, 0.8]
LOCAL_PAIRS = {64: 20, 128: 40}
LOCAL_OMEGA_HIGH = 1.0
LOCAL_LONGEST_PERIOD = 2048
LOCAL_STRENGTH_LENGTH = 16384
SLASH_PERIOD = 512
SLASH_HARMONICS = {64: 3, 128: 4}
VERTICAL_SPACING = 1024
VERTICAL_MIN_WEIGHT = 0.9
NEEDLE_MIN_DEPTH = 0.2
NEEDLE_MAX_DEPTH = 0.8
CONTENT_DIMS = {64: 2, 128: 4}
CONTENT_MIN_LENGTH = 128
CONTENT_MAX_LENGTH = 2048
KEY_LOG_FLOOR = 1

# ---- structure.ts stream ids ----
STREAM_SEGMENTS, STREAM_STRIPE, STREAM_STRIPE_WEIGHT, STREAM_NEEDLE, STREAM_HEAD_JITTER = 1, 2, 3, 4, 5
STREAM_KEY_NOISE, STREAM_VALUE, STREAM_QUERY_NOISE, STREAM_KEY_CONTENT, STREAM_QUERY_CONTENT = 6, 7, 8, 9, 10

# ---- random.ts ----
M32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9


def _mul32(x, c):
    """(x * c) mod 2^32 for uint32 x held in int64 (or a Python int), without int64 overflow."""
    return ((x * (c & 0xFFFF)) + (((x * (c >> 16)) & 0xFFFF) << 16)) & M32


def mix32(x):
    x = x & M32
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def hash_key(*parts):
    """hashKey of random.ts; parts are non-negative ints below 2^32 (the high halves are then 0), or int arrays."""
    h = 0x2545F491
    for part in parts:
        h = mix32(((h ^ part) + GOLDEN) & M32)
        h = mix32(((h ^ 0) + GOLDEN) & M32)
    return h


def element_hash(key, index):
    return mix32((key + _mul32(index, GOLDEN)) & M32)


def unit_from_hash(h):
    return (h + 0.5) / 4294967296.0


def _inverse_normal_cdf(p):
    a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
         2.506628277459239]
    b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
    c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
         2.938163982698783]
    d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - low:
        return -_inverse_normal_cdf(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


BIN_BITS = 14
BINS = 1 << BIN_BITS
FRAC_BITS = 32 - BIN_BITS


def _normal_table():
    table = [_inverse_normal_cdf((k + 1) / (BINS + 2)) for k in range(BINS + 1)]
    m2 = 0.0
    for k in range(BINS):
        a, b = table[k], table[k + 1]
        m2 += (a * a + a * b + b * b) / 3
    scale = 1 / math.sqrt(m2 / BINS)
    return [t * scale for t in table]


NORMAL_TABLE = _normal_table()


# ---- array-library adapters: the few calls that differ between numpy and torch ----
class NumpyOps:
    def __init__(self):
        import numpy
        self.np = numpy
        self.table = numpy.asarray(NORMAL_TABLE, dtype=numpy.float64)

    def arange(self, start, stop):
        return self.np.arange(start, stop, dtype=self.np.int64)

    def floats(self, values):
        return self.np.asarray(values, dtype=self.np.float64)

    def ints(self, values):
        return self.np.asarray(values, dtype=self.np.int64)

    def cos(self, x):
        return self.np.cos(x)

    def sin(self, x):
        return self.np.sin(x)

    def sqrt(self, x):
        return self.np.sqrt(x)

    def where(self, cond, a, b):
        return self.np.where(cond, a, b)

    def floor_int(self, x):
        return self.np.floor(x).astype(self.np.int64)

    def segment_index(self, starts, positions):
        return self.np.searchsorted(starts, positions, side='right') - 1

    def stack_last(self, arrays):
        return self.np.stack(arrays, axis=-1)

    def concat_last(self, arrays):
        return self.np.concatenate(arrays, axis=-1)

    def to_f32(self, x):
        return x.astype(self.np.float32)

    def float(self, x):
        return x.astype(self.np.float64)

    def row_norm(self, x):
        return self.np.sqrt((x * x).sum(-1, keepdims=True))


class TorchOps:
    def __init__(self, device):
        import torch
        self.torch = torch
        self.device = device
        self.table = torch.tensor(NORMAL_TABLE, dtype=torch.float64, device=device)

    def arange(self, start, stop):
        return self.torch.arange(start, stop, dtype=self.torch.int64, device=self.device)

    def floats(self, values):
        return self.torch.as_tensor(values, dtype=self.torch.float64, device=self.device)

    def ints(self, values):
        return self.torch.as_tensor(values, dtype=self.torch.int64, device=self.device)

    def cos(self, x):
        return self.torch.cos(x)

    def sin(self, x):
        return self.torch.sin(x)

    def sqrt(self, x):
        return self.torch.sqrt(x)

    def where(self, cond, a, b):
        t = self.torch
        a = a if t.is_tensor(a) else t.tensor(a, dtype=t.float64, device=self.device)
        b = b if t.is_tensor(b) else t.tensor(b, dtype=t.float64, device=self.device)
        return t.where(cond, a, b)

    def floor_int(self, x):
        return self.torch.floor(x).to(self.torch.int64)

    def segment_index(self, starts, positions):
        return self.torch.searchsorted(starts, positions, right=True) - 1

    def stack_last(self, arrays):
        return self.torch.stack(arrays, dim=-1)

    def concat_last(self, arrays):
        return self.torch.cat(arrays, dim=-1)

    def to_f32(self, x):
        return x.to(self.torch.float32)

    def float(self, x):
        return x.to(self.torch.float64)

    def row_norm(self, x):
        return self.torch.sqrt((x * x).sum(-1, keepdim=True))


def gaussian_from_hash(ops, h):
    bin_ = h >> FRAC_BITS
    a = ops.table[bin_]
    b = ops.table[bin_ + 1]
    return a + (b - a) * ((h & ((1 << FRAC_BITS) - 1)) * (1.0 / (1 << FRAC_BITS)))


# ---- layout.ts ----
class Layout:
    def __init__(self, head_dim):
        if head_dim not in CONTENT_DIMS:
            raise ValueError(f'no pattern layout for headDim {head_dim} (64 | 128)')
        self.head_dim = head_dim
        self.sink_dim, self.vertical_dim, self.needle_dim = 0, 1, 2
        self.content_start = 3
        self.content_dims = CONTENT_DIMS[head_dim]
        self.slash_pairs = SLASH_HARMONICS[head_dim]
        self.local_pairs = LOCAL_PAIRS[head_dim]
        self.pair_start = self.content_start + self.content_dims
        self.noise_start = self.pair_start + 2 * (self.slash_pairs + self.local_pairs)
        self.noise_dims = head_dim - self.noise_start
        omegas = [2 * math.pi * (h + 1) / SLASH_PERIOD for h in range(self.slash_pairs)]
        omega_low = 2 * math.pi / LOCAL_LONGEST_PERIOD
        for f in range(self.local_pairs):
            t = f / (self.local_pairs - 1) if self.local_pairs > 1 else 0
            omegas.append(LOCAL_OMEGA_HIGH * (omega_low / LOCAL_OMEGA_HIGH) ** t)
        self.omegas = omegas

    def pair_weight(self, f):
        return 1 / self.slash_pairs if f < self.slash_pairs else 1 / self.local_pairs


def key_amplitude(head_dim, length):
    return math.sqrt(max(KEY_LOG_FLOOR, math.log(length)) * math.sqrt(head_dim))


def needle_position(seed, length):
    depth = NEEDLE_MIN_DEPTH + (NEEDLE_MAX_DEPTH - NEEDLE_MIN_DEPTH) * unit_from_hash(hash_key(seed, STREAM_NEEDLE))
    return min(length - 1, math.floor(depth * length))


@functools.lru_cache(maxsize=64)
def segment_starts(seed, length):
    """
    Starts of every content segment touching [0, length), plus the first start past it. Cached: a decode batch asks
    for it once per sequence and head, and it is a Python loop of scalar hashes.
    """
    key = hash_key(seed, STREAM_SEGMENTS)
    starts = [0]
    span = CONTENT_MAX_LENGTH - CONTENT_MIN_LENGTH
    while starts[-1] < length:
        s = len(starts) - 1
        starts.append(starts[s] + CONTENT_MIN_LENGTH + math.floor(unit_from_hash(element_hash(key, s)) * span))
    return tuple(starts)


class SyntheticWorkload:
    """Q/K/V of synthetic.ts for one seed, head mix and head dimension, as float32 arrays of the chosen library."""

    def __init__(self, ops, seed, head_patterns, num_kv_heads, head_dim):
        for kind in head_patterns:
            if kind not in PATTERNS:
                raise ValueError(f'unknown head pattern {kind!r} ({" | ".join(PATTERNS)})')
        if len(head_patterns) % num_kv_heads:
            raise ValueError('query heads must be a multiple of KV heads')
        self.ops = ops
        self.seed = seed
        self.patterns = list(head_patterns)
        self.num_kv_heads = num_kv_heads
        self.head_dim = head_dim
        self.layout = Layout(head_dim)

    def _pair_columns(self, positions, coefficients):
        """(cos, sin)(omega_f * i) * coefficient_f, interleaved per pair: [rows, 2 * pairs]."""
        ops = self.ops
        x = ops.float(positions)
        cols = []
        for f, omega in enumerate(self.layout.omegas):
            angle = x * omega
            cols.append(ops.cos(angle) * coefficients[f])
            cols.append(ops.sin(angle) * coefficients[f])
        return ops.stack_last(cols)

    def keys_values(self, length, kv_head):
        """K and V of one KV head: two float32 arrays [length, head_dim]."""
        ops, lay, d = self.ops, self.layout, self.head_dim
        j = ops.arange(0, length)
        k_amp = key_amplitude(d, length)
        pair_amp = [k_amp * math.sqrt(lay.pair_weight(f)) for f in range(len(lay.omegas))]
        noise_amp = (d / lay.noise_dims) ** 0.25
        content_amp = (d / lay.content_dims) ** 0.25
        needle = needle_position(self.seed, length)
        starts = segment_starts(self.seed, length)
        segment = ops.segment_index(ops.ints(starts), j)

        zeros = ops.float(j) * 0.0
        sink = zeros
        for p, w in enumerate(SINK_KEY_WEIGHTS):
            sink = ops.where(j == p, k_amp * w, sink)
        stripe = k_amp * stripe_weights(ops, self.seed, j)
        needle_col = ops.where(j == needle, k_amp, zeros)

        content_key = hash_key(self.seed, STREAM_KEY_CONTENT, kv_head)
        nc = lay.content_dims
        content_free = (j < len(SINK_KEY_WEIGHTS)) | (j == needle)
        content = [ops.where(content_free, 0.0, content_amp * gaussian_from_hash(ops, element_hash(content_key, segment * nc + c)))
                   for c in range(nc)]
        # sink keys are position-free: no band components
        pairs = ops.where((j < len(SINK_KEY_WEIGHTS))[:, None], 0.0, self._pair_columns(j, pair_amp))
        noise_row = element_hash(hash_key(self.seed, STREAM_KEY_NOISE, kv_head), j)
        c_noise = ops.arange(0, lay.noise_dims)
        noise = noise_amp * gaussian_from_hash(ops, element_hash(noise_row[:, None], c_noise[None, :]))
        k = ops.concat_last([ops.stack_last([sink, stripe, needle_col] + content), pairs, noise])
        value_row = element_hash(hash_key(self.seed, STREAM_VALUE, kv_head), j)
        v = gaussian_from_hash(ops, element_hash(value_row[:, None], ops.arange(0, d)[None, :]))
        return ops.to_f32(k), ops.to_f32(v)

    def queries(self, length, head, start, end):
        """Query rows [start, end) of one query head: float32 [end - start, head_dim]."""
        ops, lay, d = self.ops, self.layout, self.head_dim
        plan = self._head_plan(head, length)
        i = ops.arange(start, end)
        needle = needle_position(self.seed, length)
        starts = segment_starts(self.seed, length)
        segment = ops.segment_index(ops.ints(starts), i)
        zeros = ops.float(i) * 0.0
        content_key = hash_key(self.seed, STREAM_QUERY_CONTENT, head)
        nc = lay.content_dims
        content = [plan['content'] * gaussian_from_hash(ops, element_hash(content_key, segment * nc + c)) for c in range(nc)]
        structured = [zeros + plan['sink'], zeros + plan['vertical'], ops.where(i > needle, plan['needle'], zeros)]
        pairs = self._pair_columns(i, plan['pairs'])
        noise_row = element_hash(hash_key(self.seed, STREAM_QUERY_NOISE, head), i)
        x = gaussian_from_hash(ops, element_hash(noise_row[:, None], ops.arange(0, lay.noise_dims)[None, :]))
        norm = ops.row_norm(x)
        noise = x * (plan['noise'] * math.sqrt(lay.noise_dims)) / norm
        q = ops.concat_last([ops.stack_last(structured + content), pairs, noise])
        return ops.to_f32(q)

    def _head_plan(self, head, length):
        d, lay = self.head_dim, self.layout
        components = PATTERNS[self.patterns[head]]
        jitter = HEAD_OFFSET_JITTER * (2 * unit_from_hash(hash_key(self.seed, STREAM_HEAD_JITTER, head)) - 1)
        unit = math.sqrt(d) / key_amplitude(d, length)
        log_length = math.log(length)

        def coefficient(name, log=log_length):
            offset = components.get(name)
            return 0.0 if offset is None else unit * max(0.0, log + offset + jitter)

        slash, local = coefficient('slash'), coefficient('local', math.log(LOCAL_STRENGTH_LENGTH))
        pairs = [(slash if f < lay.slash_pairs else local) * math.sqrt(lay.pair_weight(f)) for f in range(len(lay.omegas))]
        return {
            'sink': coefficient('sink'),
            'vertical': coefficient('vertical'),
            'needle': coefficient('needle'),
            'pairs': pairs,
            'content': components['contentStd'] * (d / lay.content_dims) ** 0.25,
            'noise': components['noiseStd'] * (d / lay.noise_dims) ** 0.25,
        }


def stripe_weights(ops, seed, positions):
    """stripeWeight of structure.ts for every position: 0, or a weight in [VERTICAL_MIN_WEIGHT, 1] on a stripe."""
    block = positions // VERTICAL_SPACING
    offset = ops.floor_int(unit_from_hash(hash_key(seed, STREAM_STRIPE, block)) * VERTICAL_SPACING)
    weight = VERTICAL_MIN_WEIGHT + (1 - VERTICAL_MIN_WEIGHT) * unit_from_hash(hash_key(seed, STREAM_STRIPE_WEIGHT, block))
    return ops.where(positions - block * VERTICAL_SPACING == offset, weight, ops.float(positions) * 0.0)
