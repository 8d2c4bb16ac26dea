// ALU ceiling, f32: eight independent vec4 FMA chains per invocation (32 lanes of work in flight),
// so latency is hidden and only FMA throughput limits the kernel.
// Honesty: the multiplier and addend come from a uniform (1.0 and 2^-10 at run time), so no
// compiler can fold the chains; every chain value stays a multiple of 2^-10 below 2^14, so each
// step is exact and the host predicts every output exactly. A skipped iteration changes the
// checksum by 32·2^-10, which the verification sees.
// FMAs per invocation = iters · 8 chains · 4 lanes.

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
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    let s = f32(i & 255u) * (1.0 / 256.0);
    let base = vec4<f32>(s, s + 0.25, s + 0.5, s + 0.75);
    var a0 = base;
    var a1 = base + 1.0;
    var a2 = base + 2.0;
    var a3 = base + 3.0;
    var a4 = base + 4.0;
    var a5 = base + 5.0;
    var a6 = base + 6.0;
    var a7 = base + 7.0;
    let m = vec4<f32>(params.mul);
    let d = vec4<f32>(params.add);
    for (var t = 0u; t < params.iters; t = t + 1u) {
        a0 = fma(a0, m, d);
        a1 = fma(a1, m, d);
        a2 = fma(a2, m, d);
        a3 = fma(a3, m, d);
        a4 = fma(a4, m, d);
        a5 = fma(a5, m, d);
        a6 = fma(a6, m, d);
        a7 = fma(a7, m, d);
    }
    let total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    out[i] = dot(total, vec4<f32>(1.0));
}
