// Naive f32 matmul: one invocation per output element, every operand read from storage.
// The baseline against which blocked kernels show what register reuse buys.
// C[M×N] = A[M×K] · B[K×N], row-major.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let row = gid.y;
    if (row >= dims.m || col >= dims.n) {
        return;
    }
    var acc = 0.0;
    for (var p = 0u; p < dims.k; p = p + 1u) {
        acc = fma(a[row * dims.k + p], b[p * dims.n + col], acc);
    }
    c[row * dims.n + col] = acc;
}
