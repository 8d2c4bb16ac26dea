// Bandwidth ceiling, STREAM triad: a = b + scale·c, one vec4 per invocation. Two reads, one write.

override WG_X: u32 = 256u;

struct Params {
    count4: u32,
    _pad: u32,
    scale: f32,
    _pad2: f32,
}

@group(0) @binding(0) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> c: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> a: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count4) {
        return;
    }
    a[i] = b[i] + params.scale * c[i];
}
