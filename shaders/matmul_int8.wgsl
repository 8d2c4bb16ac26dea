// int8 matmul through WGSL's packed dot product: i8 inputs packed four to a u32, i32
// accumulation (`dot4I8Packed` multiplies four signed byte pairs and sums them exactly).
// C[M×N] (i32) = A[M×K] (i8) · B[K×N] (i8); the result is exact, so it is checked for equality.
//
// Layouts, made on the host before the timed dispatches (stated in the result file):
// - A row-major, four consecutive K values per u32, read as vec4<u32> (16 K values).
// - B packed four consecutive K values of one column per u32, and interleaved by column quads:
//   word (k4, j) sits at vec4 index k4 · N/4 + j / 4, lane j % 4 — one vec4 load gives the
//   same K quad of four neighbouring columns.
// Each invocation computes ROWS rows × 4 columns: per 16 K values it loads ROWS vec4 of A and
// four vec4 of B, then does 16·ROWS packed dot products from registers.
// Requires K % 16 == 0 and N % 4 == 0 (checked on the host).

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// Rows of C per invocation, 1..=MAX_ROWS; a pipeline constant, so the trip count is fixed.
override ROWS: u32 = 4u;
const MAX_ROWS: u32 = 16u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<i32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

fn dot4(a: u32, b: vec4<u32>) -> vec4<i32> {
    return vec4<i32>(
        dot4I8Packed(a, b.x),
        dot4I8Packed(a, b.y),
        dot4I8Packed(a, b.z),
        dot4I8Packed(a, b.w),
    );
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = dims.n / 4u;
    let k16 = dims.k / 16u;
    let col4 = gid.x;
    let row0 = gid.y * ROWS;
    if (col4 >= n4 || row0 >= dims.m) {
        return;
    }
    let rows = min(ROWS, dims.m - row0);
    var acc: array<vec4<i32>, MAX_ROWS>;
    for (var r = 0u; r < ROWS; r++) {
        acc[r] = vec4<i32>(0);
    }
    for (var q = 0u; q < k16; q++) {
        let b0 = b[(4u * q + 0u) * n4 + col4];
        let b1 = b[(4u * q + 1u) * n4 + col4];
        let b2 = b[(4u * q + 2u) * n4 + col4];
        let b3 = b[(4u * q + 3u) * n4 + col4];
        for (var r = 0u; r < ROWS; r++) {
            if (r < rows) {
                let av = a[(row0 + r) * k16 + q];
                acc[r] += dot4(av.x, b0) + dot4(av.y, b1) + dot4(av.z, b2) + dot4(av.w, b3);
            }
        }
    }
    for (var r = 0u; r < rows; r++) {
        c[(row0 + r) * n4 + col4] = acc[r];
    }
}
