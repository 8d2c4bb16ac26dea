// ALU ceiling, f32: three independent vec4 FMA chains per invocation: enough independent
// work to hide FMA latency, few enough that the 12 accumulators plus the broadcast multiplier and
// addend fit the 16 vector registers of a CPU driver running 8 invocations per 256-bit register.
// Honesty: the multiplier and addend come from a uniform (1.0 and 2^-10 at run time), so no
// compiler can fold the chains; every chain value stays a multiple of 2^-10 below 2^14, so each
// step is exact and the host predicts every output exactly. A skipped iteration changes the
// checksum by 12·2^-10, which the verification sees.
// FMAs per invocation = iters · 8 unrolled steps · 3 chains · 4 lanes.

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
    let s = f32(i & 255u) * (1.0 / 256.0);
    let base = vec4<f32>(s, s + 0.25, s + 0.5, s + 0.75);
    var a0 = base;
    var a1 = base + 1.0;
    var a2 = base + 2.0;
    let m = vec4<f32>(params.mul);
    let d = vec4<f32>(params.add);
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
    let total = (a0 + a1) + a2;
    if (i < params.count) {
        out[i] = dot(total, vec4<f32>(1.0));
    }
}
