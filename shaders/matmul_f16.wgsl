// f16 matmul: f16 inputs, f32 accumulation (needs SHADER_F16). Register-blocked like
// matmul_blocked: each invocation computes ROWS rows × 4 columns of C, with vec4<f16> loads
// widened to f32 before the FMAs. Requires K and N to be multiples of 4 (checked on the host).
// C[M×N] (f32) = A[M×K] (f16) · B[K×N] (f16), row-major.
enable f16;

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override ROWS: u32 = 4u;
const MAX_ROWS: u32 = 16u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = dims.n / 4u;
    let k4 = dims.k / 4u;
    let col4 = gid.x;
    let row0 = gid.y * ROWS;
    if (col4 >= n4 || row0 >= dims.m) {
        return;
    }
    let rows = min(ROWS, dims.m - row0);
    var acc: array<vec4<f32>, MAX_ROWS>;
    for (var r = 0u; r < ROWS; r = r + 1u) {
        acc[r] = vec4<f32>(0.0);
    }
    for (var p4 = 0u; p4 < k4; p4 = p4 + 1u) {
        let p = p4 * 4u;
        let b0 = vec4<f32>(b[(p + 0u) * n4 + col4]);
        let b1 = vec4<f32>(b[(p + 1u) * n4 + col4]);
        let b2 = vec4<f32>(b[(p + 2u) * n4 + col4]);
        let b3 = vec4<f32>(b[(p + 3u) * n4 + col4]);
        for (var r = 0u; r < ROWS; r = r + 1u) {
            if (r < rows) {
                let av = vec4<f32>(a[(row0 + r) * k4 + p4]);
                acc[r] = fma(vec4<f32>(av.x), b0, acc[r]);
                acc[r] = fma(vec4<f32>(av.y), b1, acc[r]);
                acc[r] = fma(vec4<f32>(av.z), b2, acc[r]);
                acc[r] = fma(vec4<f32>(av.w), b3, acc[r]);
            }
        }
    }
    for (var r = 0u; r < rows; r = r + 1u) {
        c[(row0 + r) * n4 + col4] = acc[r];
    }
}
