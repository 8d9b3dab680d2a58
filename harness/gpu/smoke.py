"""
A quick look at the GPU kernels without Node: `python3 harness/gpu/smoke.py [--contexts 4096,16384] [--factors ...]`.
Runs the runner's own ops in-process (hello, ceilings, prepare with its reference check, time) and prints one line
per (context, phase, arm): median event time, dense-equivalent rate, sparsity and the check's error. The measured
results that count come from `skipbench kernel --backend gpu`; this is for developing the kernels.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from harness.gpu.runner import Runner, median  # noqa: E402

MIX = ['sink', 'sink', 'local', 'local', 'vertical', 'slash', 'retrieval', 'sink'] * 4


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--contexts', default='4096,16384')
    parser.add_argument('--phases', default='prefill,decode')
    parser.add_argument('--prefill-factors', default='100')
    parser.add_argument('--decode-factors', default='75')
    parser.add_argument('--batches', default='32', help='decode batch sizes, comma-separated')
    parser.add_argument('--prefill-configs', default='128x128x8x3',
                        help='BLOCK_M x BLOCK_N x warps x stages[G = the Gluon kernel], comma-separated')
    parser.add_argument('--decode-configs', default='64x1x4x2P', help='BLOCK_N x partitions x warps x stages[P = paired tiles], comma-separated')
    parser.add_argument('--iterations', type=int, default=10)
    parser.add_argument('--no-anchors', action='store_true')
    parser.add_argument('--no-ceilings', action='store_true')
    args = parser.parse_args()
    runner = Runner()
    hello = runner.hello({})
    print(hello)
    if not args.no_ceilings:
        print(runner.ceilings({}))
    for context in [int(c) for c in args.contexts.split(',')]:
        for phase, batch, config in sweep(args):
            factors = args.prefill_factors if phase == 'prefill' else args.decode_factors
            arms = [{'id': 'dense', 'factor': 0}]
            arms += [{'id': f'skip@{f}', 'factor': float(f)} for f in factors.split(',')]
            if not args.no_anchors:
                arms += [{'id': a, 'anchor': a} for a in (['sdpa-flash', 'sdpa-cudnn'] if phase == 'prefill' else ['sdpa-flash'])]
            a, b, warps, stages = (int(x) for x in config.rstrip('PGW').split('x'))
            tiles = {'blockM': a, 'blockN': b} if phase == 'prefill' else {'blockN': a, 'partitions': b}
            tiles.update({'numWarps': warps, 'numStages': stages})
            if phase == 'prefill':
                tiles['kernel'] = {'G': 'gluon', 'W': 'gluon-ws'}.get(config[-1], 'triton')
            if phase == 'decode':
                tiles['paired'] = config.endswith('P')  # two tiles per iteration, V loads predicated (the default)
            label = f'{phase}[{config}{"" if phase == "prefill" else f" B={batch}"}]'
            request = {'phase': phase, 'context': context, 'batch': batch,
                       'shape': {'numQueryHeads': 32, 'numKvHeads': 8, 'headDim': 128},
                       'workload': {'seed': 1, 'headPatterns': MIX}, 'tiles': tiles, 'arms': arms, 'tolerance': 0.02}
            try:
                report = runner.prepare(request)
            except Exception as error:  # noqa: BLE001
                print(f'{label} {context}: prepare failed: {getattr(error, "code", "")} {error}')
                continue
            checks = {c['arm']: c['relativeL2'] for c in report['referenceCheck']}
            dense_time = None
            for arm in report['arms']:
                runner.time({'arm': arm['id'], 'iterations': 2})
                t = median(runner.time({'arm': arm['id'], 'iterations': args.iterations})['timesMs'])
                dense_time = dense_time or t
                heads = arm['heads']
                dense_flops = sum(h['denseFlops'] for h in heads)
                dense_bytes = sum(h['denseBytes'] for h in heads)
                sparsity = sum(h['skippedTiles'] for h in heads) / max(1, sum(h['visitedTiles'] for h in heads))
                rate = f'{dense_flops / t / 1e9:8.1f} TFLOP/s' if phase == 'prefill' else f'{dense_bytes / t / 1e9:6.3f} TB/s'
                error = arm.get('error', {}).get('relativeL2', 0)
                print(f'{label:24s} {context:7d} {arm["id"]:12s} {t:9.3f} ms {rate} x{dense_time / t:5.2f} '
                      f'sparsity {sparsity:5.3f} check {checks[arm["id"]]:.2e} err-vs-dense {error:.2e}', flush=True)
            runner.release({})


def sweep(args):
    for phase in args.phases.split(','):
        if phase == 'prefill':
            for config in args.prefill_configs.split(','):
                yield phase, 1, config
        else:
            for batch in (int(b) for b in args.batches.split(',')):
                for config in args.decode_configs.split(','):
                    yield phase, batch, config


if __name__ == '__main__':
    main()
