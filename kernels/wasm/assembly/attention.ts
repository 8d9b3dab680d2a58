// Skip Softmax flash attention in WebAssembly SIMD (f32x4), compiled by AssemblyScript.
//
// Pure compute over raw pointers into one shared linear memory laid out by kernels/wasm/layout.ts: no allocation,
// no static data (several worker instances share the memory), no I/O. Scores live in the log2 domain: queries are
// pre-scaled by scale * log2(e), so exp becomes exp2 and ln(lambda) becomes log2(lambda).
//
// Operand layouts (f32):
//   queries   rows x d, row-major, copied into scratch and scaled per call
//   K packed  "panels" of 4 keys: panel p holds keys 4p..4p+3 as [d][4], so one v128 load at (p, c) gives
//             dimension c of four consecutive keys (SIMD over keys, no horizontal sums in q·k). Padded with zeros.
//   V packed  blocks of 16 keys: block b holds keys 16b..16b+15 as [d/8][16][8], so p·v walks V in address order
//             (SIMD over d, 8 dims per register pair). Padded with zeros.
// Tile decisions: one byte per visited KV tile, 1 computed, 2 skipped (kernels/types.ts TileDecision).

const F32: usize = 4;
const V128: usize = 16;
const NEG_INF: f32 = -Infinity;
// exp2 flushes to 0 below 2^-126 so masked scores (-inf) contribute exactly nothing.
const EXP2_MIN: f32 = -126.0;

const DECISION_COMPUTED: u8 = 1;
const DECISION_SKIPPED: u8 = 2;

// -- a * b + c: one fused multiply-add where the engine has relaxed SIMD (the "-relaxed" build), else two ops --
// Relaxed madd may or may not fuse (rounding differs by at most one ulp per step); skip decisions are compared
// against the reference with a margin for exactly this reason.
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// -- exp2 on four lanes: 2^x = 2^n * 2^f, n = round(x), |f| <= 0.5, Cephes exp2f polynomial (rel. err ~2e-7) --
// @ts-ignore: decorator
@inline
function exp2v(x: v128): v128 {
  const keep = f32x4.ge(x, f32x4.splat(EXP2_MIN));
  const xc = f32x4.pmax(x, f32x4.splat(EXP2_MIN));
  const n = f32x4.nearest(xc);
  const f = f32x4.sub(xc, n);
  let p = f32x4.splat(1.5353361883195e-4);
  p = madd(p, f, f32x4.splat(1.339887440266574e-3));
  p = madd(p, f, f32x4.splat(9.61843735767464e-3));
  p = madd(p, f, f32x4.splat(5.550332471162809e-2));
  p = madd(p, f, f32x4.splat(2.402264791363012e-1));
  p = madd(p, f, f32x4.splat(6.931472028550421e-1));
  p = madd(p, f, f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, pow2n), keep);
}

// @ts-ignore: decorator
@inline
function hmax(v: v128): f32 {
  const a = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1));
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  const a = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1);
}

// -- copy `rows` query rows scaled by scaleLog2, zero-padding up to a multiple of 4 rows --
function loadQueries(dst: usize, src: usize, rows: i32, d: i32, scaleLog2: f32): i32 {
  const rows4 = (rows + 3) & ~3;
  const s = f32x4.splat(scaleLog2);
  const n = <usize>(rows * d) * F32;
  for (let o: usize = 0; o < n; o += V128) v128.store(dst + o, f32x4.mul(v128.load(src + o), s));
  const end = <usize>(rows4 * d) * F32;
  for (let o = n; o < end; o += V128) v128.store(dst + o, f32x4.splat(0));
  return rows4;
}

// -- scores: S[r][j] = sum_c q[r][c] * k[j][c], 4 rows x 8 keys per register block (8 accumulators) --
// rows4 is a multiple of 4, keys4 a multiple of 4; S is row-major with `sStride` floats per row.
function scoreTile(q: usize, rows4: i32, kp: usize, keys4: i32, d: i32, s: usize, sStride: i32): void {
  const qRow = <usize>d * F32;
  const panel = <usize>d * V128;
  const sRow = <usize>sStride * F32;
  const pairs = keys4 >> 3;
  for (let pp = 0; pp < pairs; pp++) {
    const k0 = kp + <usize>(2 * pp) * panel;
    for (let r = 0; r < rows4; r += 4) {
      const q0 = q + <usize>r * qRow;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      let kc = k0;
      let qc = q0;
      const qEnd = q0 + qRow;
      while (qc < qEnd) {
        const kv0 = v128.load(kc);
        const kv1 = v128.load(kc + panel);
        let x = v128.load32_splat(qc);
        a00 = madd(x, kv0, a00);
        a01 = madd(x, kv1, a01);
        x = v128.load32_splat(qc + qRow);
        a10 = madd(x, kv0, a10);
        a11 = madd(x, kv1, a11);
        x = v128.load32_splat(qc + 2 * qRow);
        a20 = madd(x, kv0, a20);
        a21 = madd(x, kv1, a21);
        x = v128.load32_splat(qc + 3 * qRow);
        a30 = madd(x, kv0, a30);
        a31 = madd(x, kv1, a31);
        kc += V128;
        qc += F32;
      }
      const s0 = s + <usize>r * sRow + <usize>(pp * 8) * F32;
      v128.store(s0, a00);
      v128.store(s0, a01, 16);
      v128.store(s0 + sRow, a10);
      v128.store(s0 + sRow, a11, 16);
      v128.store(s0 + 2 * sRow, a20);
      v128.store(s0 + 2 * sRow, a21, 16);
      v128.store(s0 + 3 * sRow, a30);
      v128.store(s0 + 3 * sRow, a31, 16);
    }
  }
  if (keys4 & 4) {
    // one panel left over: 4 rows x 4 keys
    const k0 = kp + <usize>(keys4 >> 2) * panel - panel;
    for (let r = 0; r < rows4; r += 4) {
      const q0 = q + <usize>r * qRow;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let kc = k0;
      let qc = q0;
      const qEnd = q0 + qRow;
      while (qc < qEnd) {
        const kv = v128.load(kc);
        a0 = madd(v128.load32_splat(qc), kv, a0);
        a1 = madd(v128.load32_splat(qc + qRow), kv, a1);
        a2 = madd(v128.load32_splat(qc + 2 * qRow), kv, a2);
        a3 = madd(v128.load32_splat(qc + 3 * qRow), kv, a3);
        kc += V128;
        qc += F32;
      }
      const s0 = s + <usize>r * sRow + <usize>(keys4 - 4) * F32;
      v128.store(s0, a0);
      v128.store(s0 + sRow, a1);
      v128.store(s0 + 2 * sRow, a2);
      v128.store(s0 + 3 * sRow, a3);
    }
  }
}

// -- mask: S[r][j] = -inf where key (key0 + j) > limit(r); limit(r) = row0 + r (causal) or lastKey (decode) --
function maskTile(s: usize, rows4: i32, keys4: i32, sStride: i32, row0: i32, key0: i32, causal: bool, lastKey: i32): void {
  for (let r = 0; r < rows4; r++) {
    const limit = causal ? row0 + r : lastKey;
    let j = max(limit - key0 + 1, 0);
    const row = s + <usize>(r * sStride) * F32;
    for (; j < keys4; j++) store<f32>(row + <usize>j * F32, NEG_INF);
  }
}

function rowMax(s: usize, rows4: i32, keys4: i32, sStride: i32, out: usize): void {
  for (let r = 0; r < rows4; r++) {
    const row = s + <usize>(r * sStride) * F32;
    let m = f32x4.splat(NEG_INF);
    for (let j = 0; j < keys4; j += 4) m = f32x4.pmax(m, v128.load(row + <usize>j * F32));
    store<f32>(out + <usize>r * F32, hmax(m));
  }
}

// The last tile's margin: max over valid rows of (local_max - test_max), log2 units. The tile is skipped iff it is
// below log2(lambda), so recording it once (with lambda = 0) gives the decision at every factor (calibration).
let lastMargin: f32 = 0;

// -- the skip test: every valid row must have local_max - test_max < log2(lambda); the test max advances anyway --
function decideSkip(tileMax: usize, runningMax: usize, rows: i32, rows4: i32, log2Lambda: f32, mayskip: bool): bool {
  let worst: f32 = mayskip ? NEG_INF : Infinity;
  for (let r = 0; r < rows4; r++) {
    const o = <usize>r * F32;
    const local = load<f32>(tileMax + o);
    const prev = load<f32>(runningMax + o);
    // -inf - prev: a fully masked row votes skip; prev is finite after the unit's first tile
    if (r < rows && mayskip) worst = max(worst, local - prev);
    if (local > prev) store<f32>(runningMax + o, local);
  }
  lastMargin = worst;
  return worst < log2Lambda;
}

// -- online softmax for a computed tile: P = exp2(S - m_new) in place, l = l*alpha + rowsum(P), alpha kept --
function softmaxTile(s: usize, rows4: i32, keys4: i32, sStride: i32, tileMax: usize, m: usize, l: usize, alpha: usize): void {
  for (let r = 0; r < rows4; r++) {
    const o = <usize>r * F32;
    const mPrev = load<f32>(m + o);
    const mNew = max(mPrev, load<f32>(tileMax + o));
    const mv = f32x4.splat(mNew);
    const row = s + <usize>(r * sStride) * F32;
    let sum = f32x4.splat(0);
    for (let j = 0; j < keys4; j += 4) {
      const p = exp2v(f32x4.sub(v128.load(row + <usize>j * F32), mv));
      v128.store(row + <usize>j * F32, p);
      sum = f32x4.add(sum, p);
    }
    const a = mPrev == NEG_INF ? <f32>0 : f32x4.extract_lane(exp2v(f32x4.splat(mPrev - mNew)), 0);
    store<f32>(alpha + o, a);
    store<f32>(l + o, load<f32>(l + o) * a + hsum(sum));
    store<f32>(m + o, mNew);
  }
}

// -- acc[r] = acc[r] * alpha[r] + sum_j P[r][j] * V[j]: 4 rows x 8 dims per register block --
// V comes in packed blocks of KEY_BLOCK keys (see the layout note above): within a block, each 8-dim slice of all
// its keys is contiguous, so every row block streams it in address order and a decode reads V exactly once.
const KEY_BLOCK = 16;

function accumulateTile(p: usize, rows4: i32, keys: i32, sStride: i32, vp: usize, d: i32, out: usize, alpha: usize): void {
  const rowBytes = <usize>d * F32;
  for (let r = 0; r < rows4; r++) {
    const a = f32x4.splat(load<f32>(alpha + <usize>r * F32));
    const o = out + <usize>r * rowBytes;
    for (let c: usize = 0; c < rowBytes; c += V128) v128.store(o + c, f32x4.mul(v128.load(o + c), a));
  }
  const blockBytes = <usize>KEY_BLOCK * rowBytes;
  for (let j0 = 0; j0 < keys; j0 += KEY_BLOCK) {
    accumulateKeys(p + <usize>j0 * F32, rows4, min(KEY_BLOCK, keys - j0), sStride, vp, d, out);
    vp += blockBytes;
  }
}

function accumulateKeys(p: usize, rows4: i32, keys: i32, sStride: i32, vp: usize, d: i32, out: usize): void {
  const vRow = <usize>d * F32;
  const pRow = <usize>sStride * F32;
  const sliceBytes = <usize>KEY_BLOCK * 32;
  const used = <usize>keys * 32;
  for (let r = 0; r < rows4; r += 4) {
    const pr = p + <usize>r * pRow;
    const o0 = out + <usize>r * vRow;
    let slice = vp;
    for (let c: usize = 0; c < vRow; c += 32) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      let pj = pr;
      let vj = slice;
      const vEnd = slice + used;
      while (vj < vEnd) {
        const v0 = v128.load(vj);
        const v1 = v128.load(vj, 16);
        let x = v128.load32_splat(pj);
        a00 = madd(x, v0, a00);
        a01 = madd(x, v1, a01);
        x = v128.load32_splat(pj + pRow);
        a10 = madd(x, v0, a10);
        a11 = madd(x, v1, a11);
        x = v128.load32_splat(pj + 2 * pRow);
        a20 = madd(x, v0, a20);
        a21 = madd(x, v1, a21);
        x = v128.load32_splat(pj + 3 * pRow);
        a30 = madd(x, v0, a30);
        a31 = madd(x, v1, a31);
        vj += 32;
        pj += F32;
      }
      const o = o0 + c;
      addPair(o, a00, a01);
      addPair(o + vRow, a10, a11);
      addPair(o + 2 * vRow, a20, a21);
      addPair(o + 3 * vRow, a30, a31);
      slice += sliceBytes;
    }
  }
}

// @ts-ignore: decorator
@inline
function addPair(o: usize, x0: v128, x1: v128): void {
  v128.store(o, f32x4.add(v128.load(o), x0));
  v128.store(o, f32x4.add(v128.load(o, 16), x1), 16);
}

function fill(ptr: usize, count: i32, value: f32): void {
  for (let i = 0; i < count; i++) store<f32>(ptr + <usize>i * F32, value);
}

// Scratch layout for one call (all sized for rows4 <= maxRows, keys <= blockN):
//   qs [maxRows*d] | S [maxRows*blockN] | acc [maxRows*d] | m, l, alpha, localMax, testMax [maxRows each]
export function scratchBytes(maxRows: i32, blockN: i32, d: i32): i32 {
  const rows4 = (maxRows + 3) & ~3;
  return (rows4 * d * 2 + rows4 * blockN + rows4 * 5) * 4;
}

// The state of the unit being computed: flash-attention accumulator, softmax max m, row sum l, the rescale factor
// alpha and the skip-test max, all in this instance's scratch. Module globals are per instance (unlike the shared
// memory), so each worker's instance keeps its own.
let qs: usize = 0;
let sTile: usize = 0;
let acc: usize = 0;
let mRow: usize = 0;
let lRow: usize = 0;
let alphaRow: usize = 0;
let localMax: usize = 0;
let testMax: usize = 0;

function bindScratch(scratch: usize, rows4: i32, blockN: i32, d: i32): void {
  qs = scratch;
  sTile = qs + <usize>(rows4 * d) * F32;
  acc = sTile + <usize>(rows4 * blockN) * F32;
  mRow = acc + <usize>(rows4 * d) * F32;
  lRow = mRow + <usize>rows4 * F32;
  alphaRow = lRow + <usize>rows4 * F32;
  localMax = alphaRow + <usize>rows4 * F32;
  testMax = localMax + <usize>rows4 * F32;
  fill(acc, rows4 * d, 0);
  fill(mRow, rows4, NEG_INF);
  fill(lRow, rows4, 0);
  fill(testMax, rows4, NEG_INF);
}

// -- one KV tile of a unit: scores, mask, skip test, and (unless skipped) softmax + P·V. Returns true if skipped. --
// @ts-ignore: decorator
@inline
function visitTile(
  rows: i32, rows4: i32, kp: usize, v: usize, key0: i32, keys: i32, d: i32, sStride: i32,
  needsMask: bool, row0: i32, causal: bool, lastKey: i32, skipping: bool, first: bool, log2Lambda: f32,
  streamV: bool,
): bool {
  const keys4 = (keys + 3) & ~3;
  scoreTile(qs, rows4, kp + <usize>(key0 >> 2) * <usize>d * V128, keys4, d, sTile, sStride);
  if (needsMask) maskTile(sTile, rows4, keys4, sStride, row0, key0, causal, lastKey);
  rowMax(sTile, rows4, keys4, sStride, localMax);
  if (skipping && decideSkip(localMax, testMax, rows, rows4, log2Lambda, !first)) return true;
  if (streamV) touch(v + <usize>key0 * <usize>d * F32, <usize>keys * <usize>d * F32);
  softmaxTile(sTile, rows4, keys4, sStride, localMax, mRow, lRow, alphaRow);
  accumulateTile(sTile, rows4, keys, sStride, v + <usize>key0 * <usize>d * F32, d, acc, alphaRow);
  return false;
}

// Causal prefill of one query tile of one head: rows [row0, row0 + rows) against keys [0, row0 + rows).
// q/out point at the tile's first row; kp/v at the KV head. log2Lambda = -inf or skipping = false -> dense path.
// Writes one decision byte per visited KV tile (and, when `margins` is not 0 and skipping is on, the tile's margin as
// f32 at the same index); returns the number of skipped tiles.
export function prefillTile(
  q: usize, kp: usize, v: usize, out: usize, row0: i32, rows: i32, d: i32, blockN: i32,
  scaleLog2: f32, skipping: bool, log2Lambda: f32, scratch: usize, decisions: usize, margins: usize,
): i32 {
  const rows4 = (rows + 3) & ~3;
  bindScratch(scratch, rows4, blockN, d);
  loadQueries(qs, q, rows, d, scaleLog2);
  const rowEnd = row0 + rows; // keys at or beyond rowEnd are masked for every row
  const tiles = (rowEnd - 1) / blockN + 1;
  let skipped = 0;
  for (let t = 0; t < tiles; t++) {
    const key0 = t * blockN;
    const keys = min(blockN, rowEnd - key0);
    // only tiles reaching past the tile's first row hold masked entries
    const needsMask = key0 + ((keys + 3) & ~3) - 1 > row0;
    const skip = visitTile(rows, rows4, kp, v, key0, keys, d, blockN, needsMask, row0, true, 0, skipping, t == 0, log2Lambda, false);
    store<u8>(decisions + <usize>t, skip ? DECISION_SKIPPED : DECISION_COMPUTED);
    if (margins) store<f32>(margins + <usize>t * F32, lastMargin);
    if (skip) skipped++;
  }
  writeOutput(out, rows, d);
  return skipped;
}

function writeOutput(out: usize, rows: i32, d: i32): void {
  for (let r = 0; r < rows; r++) {
    const inv = f32x4.splat(<f32>1.0 / load<f32>(lRow + <usize>r * F32));
    const src = acc + <usize>(r * d) * F32;
    const dst = out + <usize>(r * d) * F32;
    for (let c = 0; c < d; c += 4) v128.store(dst + <usize>c * F32, f32x4.mul(v128.load(src + <usize>c * F32), inv));
  }
}

// Split-KV decode, one partition of one GQA group: the group's `rows` query heads (q: rows x d, contiguous) against
// KV tiles t = partition, partition + partitions, ... of kvLen keys. Writes the unnormalised state per row to
// `state` as [acc (d floats), m, l] (m, l in the log2 domain) for the log-sum-exp merge; returns skipped tiles.
export function decodePartition(
  q: usize, rows: i32, kp: usize, v: usize, kvLen: i32, d: i32, blockN: i32, partition: i32, partitions: i32,
  scaleLog2: f32, skipping: bool, log2Lambda: f32, scratch: usize, state: usize, decisions: usize, margins: usize,
): i32 {
  const rows4 = (rows + 3) & ~3;
  bindScratch(scratch, rows4, blockN, d);
  loadQueries(qs, q, rows, d, scaleLog2);
  const tiles = (kvLen - 1) / blockN + 1;
  let skipped = 0;
  const tileBytes = <usize>blockN * <usize>d * F32;
  for (let t = partition; t < tiles; t += partitions) {
    const key0 = t * blockN;
    const keys = min(blockN, kvLen - key0);
    // K of the next tile is always read: start its lines now; V waits for the skip decision (see visitTile)
    if (t + partitions < tiles) touch(kp + <usize>(t + partitions) * tileBytes, tileBytes);
    const needsMask = (keys & 3) != 0; // only the padded panel of a short last tile
    const skip = visitTile(rows, rows4, kp, v, key0, keys, d, blockN, needsMask, 0, false, kvLen - 1, skipping, t == partition, log2Lambda, true);
    store<u8>(decisions + <usize>t, skip ? DECISION_SKIPPED : DECISION_COMPUTED);
    if (margins) store<f32>(margins + <usize>t * F32, lastMargin);
    if (skip) skipped++;
  }
  const stride = <usize>(d + 2) * F32;
  for (let r = 0; r < rows; r++) {
    const dst = state + <usize>r * stride;
    memory.copy(dst, acc + <usize>(r * d) * F32, <usize>d * F32);
    store<f32>(dst + <usize>d * F32, load<f32>(mRow + <usize>r * F32));
    store<f32>(dst + <usize>(d + 1) * F32, load<f32>(lRow + <usize>r * F32));
  }
  return skipped;
}

let touched: f32 = 0;

// Reads one float per cache line so that the lines are in flight together before the arithmetic needs them
// (WebAssembly has no prefetch instruction). Decode streams K and V from memory once: without this, each worker
// waits on one line at a time between bursts of arithmetic and reaches about 60% of the stream-read ceiling.
function touch(ptr: usize, bytes: usize): void {
  let a: f32 = 0;
  for (let o: usize = 0; o < bytes; o += 64) a += load<f32>(ptr + o);
  touched = a;
}

// Packs K rows [keys][d] into 4-key panels [ceil(keys/4)][d][4], zero-padding the last panel.
export function packKeys(src: usize, dst: usize, keys: i32, d: i32): void {
  const panels = (keys + 3) >> 2;
  for (let p = 0; p < panels; p++) {
    for (let lane = 0; lane < 4; lane++) {
      const key = p * 4 + lane;
      const base = dst + <usize>(p * d * 4 + lane) * F32;
      if (key < keys) {
        const row = src + <usize>(key * d) * F32;
        for (let c = 0; c < d; c++) store<f32>(base + <usize>(c * 4) * F32, load<f32>(row + <usize>c * F32));
      } else {
        for (let c = 0; c < d; c++) store<f32>(base + <usize>(c * 4) * F32, 0);
      }
    }
  }
}

// -- machine ceiling probes (harness/ceilings.ts): the same code paths as the kernel, on controlled data --

// Streams `bytes` from ptr with v128 loads; the sum keeps the loads alive.
export function streamRead(ptr: usize, bytes: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end = ptr + bytes;
  for (let p = ptr; p < end; p += 64) {
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

// Repeats the q·k tile (rows x keys x d, in cache) `repeats` times: the kernel's compute ceiling.
export function scoreProbe(q: usize, rows: i32, kp: usize, keys: i32, d: i32, s: usize, repeats: i32): void {
  for (let i = 0; i < repeats; i++) scoreTile(q, rows, kp, keys, d, s, keys);
}
