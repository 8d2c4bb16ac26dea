// Cooperative-matrix matmul: f16 inputs, f32 accumulation, 16×16×16 tiles (needs
// EXPERIMENTAL_COOPERATIVE_MATRIX and SHADER_F16, and an adapter that lists f16->f32 16x16x16).
// One subgroup per workgroup computes one 16×16 tile of C, stepping K by 16.
// Requires M, N and K to be multiples of 16 (checked on the host).
// C[M×N] (f32) = A[M×K] (f16) · B[K×N] (f16), row-major.
enable f16;
enable wgpu_cooperative_matrix;

// One subgroup: set to the adapter's subgroup size.
override WG_X: u32 = 32u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<f16>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    let row0 = wg.y * 16u;
    let col0 = wg.x * 16u;
    var acc: coop_mat16x16<f32, C>;
    for (var p = 0u; p < dims.k; p = p + 16u) {
        let ta = coopLoadT<coop_mat16x16<f16, A>>(&a[row0 * dims.k + p], dims.k);
        let tb = coopLoadT<coop_mat16x16<f16, B>>(&b[p * dims.n + col0], dims.n);
        acc = coopMultiplyAdd(ta, tb, acc);
    }
    coopStoreT(acc, &c[row0 * dims.n + col0], dims.n);
}
