"""
The GPU runner: the process `skipbench kernel --backend gpu` starts. It speaks JSON lines over stdin/stdout
(protocol 1, harness/gpu/protocol.ts): one request per line, one response per request, nothing else on stdout
(library chatter goes to stderr). The harness decides what to measure and in which order (interleaved rounds);
this process generates the workload on the GPU, checks every arm against a float32 reference before any timing,
and times single calls with CUDA events, the L2 cache flushed before each call.

Ops: hello, ceilings, prepare, time, release, shutdown.
"""
import json
import math
import os
import sys
import traceback

PROTOCOL = 1
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


class RunnerError(Exception):
    def __init__(self, code, message, **extra):
        super().__init__(message)
        self.code = code
        self.extra = extra


def unavailable(missing, message):
    return RunnerError('SKB_GPU_UNAVAILABLE', message, missing=missing)


def finite(value):
    """JSON has no NaN or Infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


class Runner:
    def __init__(self):
        self.torch = None
        self.state = None
        self.flush_buffer = None

    # ---- hello ----
    def hello(self, _request):
        try:
            import torch
        except ImportError:
            raise unavailable('torch', f'torch is not installed for {sys.executable} (install PyTorch with CUDA, e.g. pip install torch)')
        try:
            import triton
        except ImportError:
            raise unavailable('triton', f'triton is not installed for {sys.executable} (pip install triton; it ships with PyTorch on Linux)')
        if not torch.cuda.is_available():
            raise unavailable('gpu', f'torch {torch.__version__} sees no CUDA GPU (torch.cuda.is_available() is False)')
        self.torch = torch
        props = torch.cuda.get_device_properties(0)
        capability = f'{props.major}.{props.minor}'
        return {
            'protocol': PROTOCOL,
            'versions': {
                'python': sys.version.split()[0],
                'torch': torch.__version__,
                'triton': triton.__version__,
                'cuda': torch.version.cuda,
                'cudnn': str(torch.backends.cudnn.version()),
            },
            'device': {
                'name': props.name,
                'capability': capability,
                'multiprocessors': props.multi_processor_count,
                'l2Bytes': getattr(props, 'L2_cache_size', None),
                'memoryBytes': props.total_memory,
                'driver': driver_version(),
            },
        }

    def need_torch(self):
        if self.torch is None:
            self.hello({})
        return self.torch

    # ---- ceilings ----
    def ceilings(self, _request):
        torch = self.need_torch()
        size = 1 << 30
        src = torch.empty(size, dtype=torch.uint8, device='cuda').random_(0, 255)
        dst = torch.empty_like(src)
        copy_ms = median(self.event_times(lambda: dst.copy_(src), 20, flush=False))
        n = 8192
        a = torch.randn(n, n, dtype=torch.bfloat16, device='cuda')
        b = torch.randn(n, n, dtype=torch.bfloat16, device='cuda')
        mm_ms = median(self.event_times(lambda: a @ b, 20, flush=False))
        del src, dst, a, b
        torch.cuda.empty_cache()
        return {
            'copyBytesPerSec': 2 * size / (copy_ms / 1e3),
            'matmulFlopsPerSec': 2 * n ** 3 / (mm_ms / 1e3),
            'method': 'median of 20 CUDA-event-timed calls after warmup: device-to-device copy of 1 GiB (bytes read + '
                      'written) and an 8192^3 bf16 matrix product on random data (torch)',
        }

    # ---- timing ----
    def flush_l2(self):
        torch = self.torch
        if self.flush_buffer is None:
            # 256 MB: several times the L2 of any Hopper part (50-60 MB), as triton.testing.do_bench does.
            self.flush_buffer = torch.empty(256 * 1024 * 1024 // 4, dtype=torch.int32, device='cuda')
        self.flush_buffer.zero_()

    def event_times(self, fn, iterations, flush=True, warm=True):
        torch = self.torch
        if warm:
            fn()  # one untimed call: compilation, allocator growth
            torch.cuda.synchronize()
        events = []
        for _ in range(iterations):
            if flush:
                self.flush_l2()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            events.append((start, end))
        torch.cuda.synchronize()
        return [s.elapsed_time(e) for s, e in events]

    def time(self, request):
        if self.state is None:
            raise RunnerError('SKB_GPU_PROTOCOL', 'time before prepare')
        arm = self.state.arms.get(request.get('arm'))
        if arm is None:
            raise RunnerError('SKB_GPU_PROTOCOL', f"unknown arm {request.get('arm')!r} (prepared: {', '.join(self.state.arms)})")
        iterations = request.get('iterations', 1)
        if not isinstance(iterations, int) or iterations < 1 or iterations > 10000:
            raise RunnerError('SKB_CONFIG', f'iterations must be an integer in [1, 10000] (got {iterations!r})')
        # No untimed call here: the harness runs its own warmup rounds through this same op.
        return {'timesMs': self.event_times(arm, iterations, flush=True, warm=False)}

    # ---- prepare / release ----
    def prepare(self, request):
        torch = self.need_torch()
        self.release({})
        from harness.gpu.phases import prepare_phase
        self.state = prepare_phase(torch, request)
        return self.state.report

    def release(self, _request):
        if self.state is not None:
            self.state = None
            if self.torch is not None:
                self.torch.cuda.empty_cache()
        return {}


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def driver_version():
    import subprocess
    try:
        out = subprocess.run(['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'],
                             capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def serve(protocol_out):
    runner = Runner()
    ops = {
        'hello': runner.hello,
        'ceilings': runner.ceilings,
        'prepare': runner.prepare,
        'time': runner.time,
        'release': runner.release,
    }
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get('id')
            op = request.get('op')
            if op == 'shutdown':
                protocol_out.write(json.dumps({'id': request_id, 'ok': True, 'result': {}}) + '\n')
                protocol_out.flush()
                return
            if op not in ops:
                raise RunnerError('SKB_GPU_PROTOCOL', f'unknown op {op!r} ({", ".join(list(ops) + ["shutdown"])})')
            response = {'id': request_id, 'ok': True, 'result': finite(ops[op](request))}
        except Exception as error:  # every failure is answered, never fatal: the harness decides what to do
            code = getattr(error, 'code', None)
            if isinstance(code, str) and code.startswith('SKB_'):
                message = str(error)
            else:
                traceback.print_exc(file=sys.stderr)
                message = f'{type(error).__name__}: {error}'
                code = 'SKB_GPU_OUT_OF_MEMORY' if 'out of memory' in message.lower() else 'SKB_GPU_ERROR'
            extra = getattr(error, 'extra', {})
            response = {'id': request_id, 'ok': False, 'error': {'code': code, 'message': message, **extra}}
        protocol_out.write(json.dumps(response, allow_nan=False) + '\n')
        protocol_out.flush()


def main():
    # Keep stdout for the protocol alone: anything a library prints (even from C) goes to stderr.
    protocol_out = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(protocol_out)


if __name__ == '__main__':
    main()
