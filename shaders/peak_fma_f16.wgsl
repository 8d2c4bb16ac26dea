// ALU ceiling, f16: the f32 peak kernel's structure on vec4<f16> chains (needs SHADER_F16).
// The multiplier 1.0 and addend 2^-8 come from a uniform; chain values are multiples of 2^-8
// below 8, exact in f16, so the host predicts every output exactly while iters · 8 <= 1024.
// The checksum is summed in f32. FMAs per invocation = iters · 8 unrolled steps · 3 chains · 4 lanes.
enable f16;

override WG_X: u32 = 64u;

struct Params {
    count: u32,
    iters: u32,
    mul: f32,
    add: f32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    // No early return: on CPU drivers, code after a divergent return runs under a lane mask
    // and every accumulator update becomes a masked blend. Out-of-range invocations compute
    // and skip only the store.
    let i = gid.x;
    let s = f16(i & 3u) * f16(0.00390625);
    let base = vec4<f16>(s, s + f16(0.125), s + f16(0.25), s + f16(0.375));
    var a0 = base;
    var a1 = base + f16(0.5);
    var a2 = base + f16(1.0);
    let m = vec4<f16>(f16(params.mul));
    let d = vec4<f16>(f16(params.add));
    // Written as a·m + d, not fma(): lavapipe (Mesa 22.3) compiled fma() markedly slower
    // (32 vs 53 GFLOP/s measured); both count as two FLOPs, as a fused or unfused multiply-add
    // is two operations.
    // Eight steps per trip: CPU drivers pay a lane-mask update per loop trip, so the body
    // must be long enough to amortise it.
    for (var t = 0u; t < params.iters; t = t + 1u) {
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
        a0 = a0 * m + d;
        a1 = a1 * m + d;
        a2 = a2 * m + d;
    }
    let total = (vec4<f32>(a0) + vec4<f32>(a1)) + vec4<f32>(a2);
    if (i < params.count) {
        out[i] = dot(total, vec4<f32>(1.0));
    }
}
