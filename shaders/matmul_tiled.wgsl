// Workgroup-tiled matmul: the shape fast GPU matmuls take. A workgroup computes a BM×BN block
// of C. Over K it stages BM×BK tiles of A and BK×BN tiles of B in workgroup memory, loaded
// cooperatively with vec4 global loads; each invocation then computes a TM×TN register tile from
// those staged tiles. The tiles are double-buffered: while one pair is consumed, the next is
// fetched into registers and written to the other pair, so one barrier per K step suffices.
// C[M×N] (f32) = A[M×K] · B[K×N], row-major, inputs viewed as vec4 rows.
//
// Register tiles are strided, not contiguous: invocation (tx, ty) owns the vec4 column groups
// tx, tx + WG_X, … and the row quads ty, ty + WG_Y, … so neighbouring invocations read
// neighbouring workgroup-memory words and write neighbouring global words.
//
// This file is a template: fleetbench generates one variant per tile shape by replacing the
// `//@SHAPE` block (src/kernels/generate.rs), because workgroup arrays need compile-time sizes,
// and the `//@ACC`, `//@STEP` and `//@STORE` blocks by fully unrolled code with one named
// variable per accumulator, because drivers keep a dynamically indexed array in memory rather
// than registers (CPU drivers do; GPU compilers usually unroll, but need not). As shipped it is itself a valid kernel (64×64 block, BK 16, 4×4).
// The f16 family is the same template with `In4` aliased to vec4<f16> (f32 accumulation).
// Shape rules, checked on the host: M % BM == N % BN == K % BK == 0, and the A and B tiles
// divide evenly among the invocations (see `shape_problem`).

//@SHAPE
const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
//@END
alias In4 = vec4<f32>;

const WG_X: u32 = BN / TN;
const WG_Y: u32 = BM / TM;
const THREADS: u32 = WG_X * WG_Y;
// vec4s of each staged tile, and how many of them one invocation loads per K step.
const A_VECS: u32 = BM * BK / 4u;
const B_VECS: u32 = BK * BN / 4u;
const A_PER: u32 = A_VECS / THREADS;
const B_PER: u32 = B_VECS / THREADS;
const TM4: u32 = TM / 4u;
const TN4: u32 = TN / 4u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<In4>;
@group(0) @binding(1) var<storage, read> b: array<In4>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

// A is staged transposed (BK rows of BM values) so a column of the A tile is a vec4 row here.
var<workgroup> as_: array<array<vec4<f32>, A_VECS>, 2>;
var<workgroup> bs: array<array<vec4<f32>, B_VECS>, 2>;

// The vec4s of A's and B's next K step that this invocation fetches and then stages.
struct Fetched {
    a: array<vec4<f32>, A_PER>,
    b: array<vec4<f32>, B_PER>,
}

fn fetch(row0: u32, col40: u32, p0: u32, lid: u32) -> Fetched {
    var f: Fetched;
    let k4 = dims.k / 4u;
    let n4 = dims.n / 4u;
    for (var i = 0u; i < A_PER; i++) {
        let v = lid + i * THREADS; // A tile vec4 index: row v / (BK/4), k quad v % (BK/4)
        let r = v / (BK / 4u);
        let q = v % (BK / 4u);
        f.a[i] = vec4<f32>(a[(row0 + r) * k4 + p0 / 4u + q]);
    }
    for (var i = 0u; i < B_PER; i++) {
        let v = lid + i * THREADS; // B tile vec4 index: k row v / (BN/4), column quad v % (BN/4)
        let r = v / (BN / 4u);
        let q = v % (BN / 4u);
        f.b[i] = vec4<f32>(b[(p0 + r) * n4 + col40 + q]);
    }
    return f;
}

fn stage(f: Fetched, buf: u32, lid: u32) {
    for (var i = 0u; i < A_PER; i++) {
        let v = lid + i * THREADS;
        let r = v / (BK / 4u);
        let q = v % (BK / 4u);
        // Scatter the 4 K values of row r into rows 4q..4q+3 of the transposed tile, at row r.
        let quad = r / 4u;
        let lane = r % 4u;
        let x = f.a[i];
        as_[buf][(4u * q + 0u) * (BM / 4u) + quad][lane] = x.x;
        as_[buf][(4u * q + 1u) * (BM / 4u) + quad][lane] = x.y;
        as_[buf][(4u * q + 2u) * (BM / 4u) + quad][lane] = x.z;
        as_[buf][(4u * q + 3u) * (BM / 4u) + quad][lane] = x.w;
    }
    for (var i = 0u; i < B_PER; i++) {
        bs[buf][lid + i * THREADS] = f.b[i];
    }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) l: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row0 = wg.y * BM;
    let col40 = wg.x * (BN / 4u);
    //@ACC
    var acc: array<array<vec4<f32>, TN4>, TM>;
    for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN4; j++) {
            acc[i][j] = vec4<f32>(0.0);
        }
    }
    //@END
    stage(fetch(row0, col40, 0u, lid), 0u, lid);
    workgroupBarrier();
    let steps = dims.k / BK;
    for (var t = 0u; t < steps; t++) {
        let cur = t % 2u;
        let more = t + 1u < steps;
        var next: Fetched;
        if (more) {
            next = fetch(row0, col40, (t + 1u) * BK, lid);
        }
        for (var p = 0u; p < BK; p++) {
            //@STEP
            var av: array<vec4<f32>, TM4>;
            var bv: array<vec4<f32>, TN4>;
            for (var i = 0u; i < TM4; i++) {
                av[i] = as_[cur][p * (BM / 4u) + i * WG_Y + l.y];
            }
            for (var j = 0u; j < TN4; j++) {
                bv[j] = bs[cur][p * (BN / 4u) + j * WG_X + l.x];
            }
            for (var i = 0u; i < TM4; i++) {
                for (var j = 0u; j < TN4; j++) {
                    acc[4u * i + 0u][j] = fma(vec4<f32>(av[i].x), bv[j], acc[4u * i + 0u][j]);
                    acc[4u * i + 1u][j] = fma(vec4<f32>(av[i].y), bv[j], acc[4u * i + 1u][j]);
                    acc[4u * i + 2u][j] = fma(vec4<f32>(av[i].z), bv[j], acc[4u * i + 2u][j]);
                    acc[4u * i + 3u][j] = fma(vec4<f32>(av[i].w), bv[j], acc[4u * i + 3u][j]);
                }
            }
            //@END
        }
        if (more) {
            stage(next, 1u - cur, lid);
        }
        workgroupBarrier();
    }
    let n4 = dims.n / 4u;
    //@STORE
    for (var i = 0u; i < TM4; i++) {
        for (var e = 0u; e < 4u; e++) {
            let row = row0 + 4u * (i * WG_Y + l.y) + e;
            for (var j = 0u; j < TN4; j++) {
                c[row * n4 + col40 + j * WG_X + l.x] = acc[4u * i + e][j];
            }
        }
    }
    //@END
}
