// Bandwidth ceiling: dst = src. Counted as bytes read plus written.
// Each invocation moves PER elements of type V, spaced one workgroup apart, so neighbouring
// invocations always touch neighbouring words (coalesced on GPUs, contiguous lanes on CPU
// drivers). This file is a template: fleetbench generates one variant per element type (f32,
// vec2, vec4), PER, and input (storage buffer, or with `TEX` 1 a read-only rgba32float storage
// texture holding the same bytes) by replacing the `//@SHAPE` and `//@INPUTS` blocks
// (src/kernels/generate.rs); as shipped it is itself a valid kernel.
//
// Why a texture input: lavapipe (Mesa's CPU Vulkan driver) compiles every storage-buffer load
// into a loop over the SIMD lanes with a scalar, bounds-checked load per component, while a
// storage-texture load is not split that way; the texture-fed copy moves the same bytes about
// twice as fast there (README, "lavapipe bandwidth").

//@SHAPE
alias V = vec4<f32>;
const PER: u32 = 1u;
//@END
override WG_X: u32 = 256u;

struct Params {
    count: u32, // elements of type V
    width_log2: u32, // texture inputs: log2 of the texture's width in texels (unused otherwise)
    scale: f32,
    _pad2: f32,
}

//@INPUTS
@group(0) @binding(0) var<storage, read> src: array<V>;
fn src_at(i: u32) -> V {
    return src[i];
}
//@END
@group(0) @binding(1) var<storage, read_write> dst: array<V>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let base = wg.x * PER * WG_X + l;
    for (var j = 0u; j < PER; j++) {
        let i = base + j * WG_X;
        if (i < params.count) {
            dst[i] = src_at(i);
        }
    }
}
