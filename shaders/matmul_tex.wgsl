// Register-blocked f32 matmul fed from read-only storage textures, no barriers.
// On CPU drivers (lavapipe) a storage-buffer load inside a loop becomes a per-lane scalar loop
// with bounds-check branches; textureLoad does not, which is why this family exists.
// Inputs: `at` holds A transposed (texel (i4, p) = A[4·i4 .. 4·i4+3][p]), `bt` holds B
// (texel (j4, p) = B[p][4·j4 .. 4·j4+3]); both rgba32float, K texels high. The transpose is done
// on the host before the timed dispatches (stated in the result file).
// Each invocation computes 4·RA rows × 4·CB columns of C: per step along K it loads RA texels of
// A and CB texels of B and does 4·RA·CB vec4 FMAs from registers.
// Requires M % (4·RA) == 0 and N % (4·CB) == 0 (checked on the host).
// Invocations past the edge of C compute on clamped coordinates and store nothing, so every
// lane of a subgroup stays active through the loop (the shared variant needs that).
//
// This file is a template: fleetbench generates one variant per (RA, CB, KU, SHARE) with
// every accumulator a named variable and KU steps along K unrolled per loop iteration
// (src/kernels/generate.rs, `texture_matmul_source`), because drivers keep a dynamically
// indexed accumulator array in memory rather than registers. With SHARE lanes, the lanes of a
// subgroup (which then hold the same rows) load A's texels once between them and broadcast
// them. As shipped (RA = CB = KU = 1, SHARE 0) it is itself a valid kernel.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override RA: u32 = 1u;
override CB: u32 = 1u;

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var at: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var bt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
    //@PARAMS
    @builtin(global_invocation_id) gid: vec3<u32>,
    //@END
) {
    let n4 = dims.n / 4u;
    let m4 = dims.m / 4u;
    let live = gid.x * CB < n4 && gid.y * RA < m4;
    let col0 = min(gid.x * CB, n4 - CB);
    let row40 = min(gid.y * RA, m4 - RA);
    //@SHARE
    //@END
    //@DECLARE
    var acc_0_0 = vec4<f32>(0.0);
    var acc_1_0 = vec4<f32>(0.0);
    var acc_2_0 = vec4<f32>(0.0);
    var acc_3_0 = vec4<f32>(0.0);
    //@END
    //@LOOP
    for (var p = 0u; p < dims.k; p = p + 1u) {
        let b_0_0 = textureLoad(bt, vec2<i32>(i32(col0 + 0u), i32(p)));
        let a_0_0 = textureLoad(at, vec2<i32>(i32(row40 + 0u), i32(p)));
        acc_0_0 = fma(vec4<f32>(a_0_0.x), b_0_0, acc_0_0);
        acc_1_0 = fma(vec4<f32>(a_0_0.y), b_0_0, acc_1_0);
        acc_2_0 = fma(vec4<f32>(a_0_0.z), b_0_0, acc_2_0);
        acc_3_0 = fma(vec4<f32>(a_0_0.w), b_0_0, acc_3_0);
    }
    //@END
    if (!live) {
        return;
    }
    let row0 = row40 * 4u;
    //@STORE
    c[(row0 + 0u) * n4 + col0 + 0u] = acc_0_0;
    c[(row0 + 1u) * n4 + col0 + 0u] = acc_1_0;
    c[(row0 + 2u) * n4 + col0 + 0u] = acc_2_0;
    c[(row0 + 3u) * n4 + col0 + 0u] = acc_3_0;
    //@END
}
