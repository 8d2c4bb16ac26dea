// Register-blocked f32 matmul with vec4 loads and no barriers.
// Each invocation computes ROWS rows × 4 columns of C. Per step of 4 along K it loads one vec4
// of A per row and four vec4 rows of B, then does 4·ROWS vec4 FMAs: B is reused ROWS times and
// A four times from registers. Requires K and N to be multiples of 4 (checked on the host).
// C[M×N] = A[M×K] · B[K×N], row-major; a, b, c are viewed as vec4 arrays.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// Rows of C per invocation, 1..=MAX_ROWS. A pipeline constant, so the driver sees a fixed trip
// count and can keep the accumulators in registers.
override ROWS: u32 = 4u;
const MAX_ROWS: u32 = 16u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
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
        let b0 = b[(p + 0u) * n4 + col4];
        let b1 = b[(p + 1u) * n4 + col4];
        let b2 = b[(p + 2u) * n4 + col4];
        let b3 = b[(p + 3u) * n4 + col4];
        for (var r = 0u; r < ROWS; r = r + 1u) {
            if (r < rows) {
                let av = a[(row0 + r) * k4 + p4];
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
