// Cooperative-matrix matmul: f16 inputs, f32 accumulation on the matrix units (needs
// EXPERIMENTAL_COOPERATIVE_MATRIX and SHADER_F16, and an adapter that lists the tile shape).
// A workgroup of SGM×SGN subgroups computes a BM×BN block of C, BM = SGM·TM·TILE and
// BN = SGN·TN·TILE. Over K, all invocations stage a BM×BK tile of A and a BK×BN tile of B in
// workgroup memory with vec4<f16> loads; after a barrier each subgroup multiplies its TM×TN
// accumulator tiles (TILE×TILE each) from the staged tiles, TILE along K at a time.
// C[M×N] (f32) = A[M×K] (f16) · B[K×N] (f16), row-major.
//
// Subgroup s is invocations s·SG … s·SG + SG − 1 of the workgroup (local_invocation_index / SG):
// the host generates SG from the adapter's subgroup size and requires that size to be fixed.
// This file is a template: fleetbench generates one variant per tile shape by replacing the
// `//@SHAPE` block and the `//@ACC`, `//@MMA` and `//@STORE` blocks (one named accumulator per
// tile; src/kernels/generate.rs). As shipped it is itself a valid kernel (one 16×16 tile per
// subgroup, one subgroup). Shape rules are checked on the host (see `shape_problem`).
enable f16;
enable wgpu_cooperative_matrix;

//@SHAPE
const TILE: u32 = 16u;
const SG: u32 = 32u;
const SGM: u32 = 1u;
const SGN: u32 = 1u;
const TM: u32 = 1u;
const TN: u32 = 1u;
const BK: u32 = 16u;
alias TileA = coop_mat16x16<f16, A>;
alias TileB = coop_mat16x16<f16, B>;
alias TileC = coop_mat16x16<f32, C>;
//@END

const BM: u32 = SGM * TM * TILE;
const BN: u32 = SGN * TN * TILE;
const THREADS: u32 = SG * SGM * SGN;
const A_VECS: u32 = BM * BK / 4u;
const B_VECS: u32 = BK * BN / 4u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> as_: array<f16, BM * BK>;
var<workgroup> bs: array<f16, BK * BN>;

fn stage(row0: u32, col0: u32, p0: u32, lid: u32) {
    let k4 = dims.k / 4u;
    let n4 = dims.n / 4u;
    for (var v = lid; v < A_VECS; v += THREADS) {
        let r = v / (BK / 4u);
        let q = v % (BK / 4u);
        let x = a[(row0 + r) * k4 + p0 / 4u + q];
        let at = r * BK + 4u * q;
        as_[at] = x.x;
        as_[at + 1u] = x.y;
        as_[at + 2u] = x.z;
        as_[at + 3u] = x.w;
    }
    for (var v = lid; v < B_VECS; v += THREADS) {
        let r = v / (BN / 4u);
        let q = v % (BN / 4u);
        let x = b[(p0 + r) * n4 + col0 / 4u + q];
        let at = r * BN + 4u * q;
        bs[at] = x.x;
        bs[at + 1u] = x.y;
        bs[at + 2u] = x.z;
        bs[at + 3u] = x.w;
    }
}

@compute @workgroup_size(THREADS, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row0 = wg.y * BM;
    let col0 = wg.x * BN;
    let s = lid / SG;
    // This subgroup's first row and column inside the block.
    let sr = (s / SGN) * TM * TILE;
    let sc = (s % SGN) * TN * TILE;
    //@ACC
    var acc_0_0: TileC;
    //@END
    for (var p0 = 0u; p0 < dims.k; p0 += BK) {
        stage(row0, col0, p0, lid);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk += TILE) {
            //@MMA
            let a_0 = coopLoadT<TileA>(&as_[(sr + 0u * TILE) * BK + kk], BK);
            let b_0 = coopLoadT<TileB>(&bs[kk * BN + sc + 0u * TILE], BN);
            acc_0_0 = coopMultiplyAdd(a_0, b_0, acc_0_0);
            //@END
        }
        workgroupBarrier();
    }
    //@STORE
    coopStoreT(acc_0_0, &c[(row0 + sr + 0u * TILE) * dims.n + col0 + sc + 0u * TILE], dims.n);
    //@END
}
