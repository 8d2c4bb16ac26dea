//! The search space: which kernel families and shapes are worth trying on an adapter, read
//! from the adapter's facts (device type, limits, cooperative-matrix shapes). Only lists; the
//! search that runs them lives in [`super::search`].

use crate::kernels::{Kernel, KernelConfig};
use crate::results::{AdapterRecord, MatrixScalar};
use crate::workload::Dtype;

/// The candidates searched for a dtype on `adapter`: the families that suit the kind of device
/// (CPU drivers: register blocks fed from textures or buffers, small workgroup tiles; GPUs:
/// workgroup-tiled blocks with register tiles, cooperative matrices), each with several shapes.
/// Shapes the adapter's limits cannot hold stay in the list: the search records them as
/// skipped or unsupported at no cost, so the whole search space is visible in the result file.
pub fn candidates(adapter: &AdapterRecord, dtype: Dtype) -> Vec<KernelConfig> {
    let cpu = adapter.device_type.is_cpu();
    match dtype {
        Dtype::F32 if cpu => cpu_f32_candidates(),
        Dtype::F32 => gpu_f32_candidates(),
        Dtype::F16 => {
            let mut c = f16_candidates(cpu);
            c.extend(coop_candidates(adapter));
            c
        }
        Dtype::I8 => int8_candidates(cpu),
    }
}

fn blocked(kernel: Kernel, wg: u32, rows: u32) -> KernelConfig {
    KernelConfig::new(kernel, &[("WG_X", wg), ("WG_Y", wg), ("ROWS", rows)])
}

/// A workgroup-tiled configuration: block BM×BN, K step BK, register tile TM×TN.
fn tiled(kernel: Kernel, [bm, bn, bk, tm, tn]: [u32; 5]) -> KernelConfig {
    let shape = [("BM", bm), ("BN", bn), ("BK", bk), ("TM", tm), ("TN", tn)];
    KernelConfig::new(kernel, &shape)
}

/// Tile shapes for GPUs: 64×64 to 128×128 blocks, 4×4 to 8×8 register tiles, BK 8 to 32.
const GPU_TILES: [[u32; 5]; 7] = [
    [64, 64, 16, 4, 4],
    [64, 64, 32, 4, 4],
    [64, 64, 16, 8, 8],
    [128, 64, 16, 8, 4],
    [128, 128, 8, 8, 8],
    [128, 128, 16, 8, 8],
    [64, 64, 32, 8, 4],
];

/// Tile shapes for CPU drivers: 64 invocations (eight 8-wide SIMD batches), large register
/// tiles, few barriers per K.
const CPU_TILES: [[u32; 5]; 3] = [[32, 32, 16, 4, 4], [64, 32, 16, 8, 4], [64, 64, 16, 8, 8]];

fn cpu_f32_candidates() -> Vec<KernelConfig> {
    let mut c = vec![
        blocked(Kernel::MatmulBlocked, 8, 4),
        blocked(Kernel::MatmulBlocked, 8, 8),
    ];
    for (ra, cb, ku) in [(4, 4, 1), (8, 4, 1), (4, 4, 2)] {
        c.push(texture(8, 8, [ra, cb, ku, 0]));
    }
    for (ra, cb, ku) in SHARED_TEXTURE_BLOCKS {
        c.push(texture(64, 1, [ra, cb, ku, 8]));
    }
    c.extend(CPU_TILES.map(|t| tiled(Kernel::MatmulTiled, t)));
    c
}

/// A texture-fed configuration: workgroup `wx × wy`, `[RA, CB, KU, SHARE]`.
fn texture(wx: u32, wy: u32, [ra, cb, ku, share]: [u32; 4]) -> KernelConfig {
    let shape = [
        ("WG_X", wx),
        ("WG_Y", wy),
        ("RA", ra),
        ("CB", cb),
        ("KU", ku),
        ("SHARE", share),
    ];
    KernelConfig::new(Kernel::MatmulTex, &shape)
}

/// `(RA, CB, KU)` of the texture-fed blocks whose 8 lanes share A (one-row workgroups of 64,
/// subgroups of 8 as on lavapipe). On lavapipe (Mesa 22.3, 2 Zen 4 cores) every texel load
/// costs about 40 instructions per 8 lanes (per-lane addresses, a transpose, the driver's
/// bounds check), a fused multiply-add compiles to a multiply and an add, and accumulators
/// past the 32 vector registers live on the stack, loaded, blended with the loop mask and
/// stored once per loop iteration. So the kernels that win there load A once per subgroup
/// (a texel of A is 4 broadcasts instead of 40 instructions), take many rows per invocation
/// against few columns (B is the operand each lane loads for itself), and unroll 2 or 4 steps
/// along K (fewer accumulator round trips), but stop at about 4,000 instructions per
/// iteration: larger loop bodies (K unrolled 8 times) ran at half speed, out of the
/// instruction caches. README, "f32 matmul on lavapipe", has the measurements.
const SHARED_TEXTURE_BLOCKS: [(u32, u32, u32); 4] = [(8, 2, 2), (8, 2, 4), (8, 1, 4), (16, 1, 4)];

fn gpu_f32_candidates() -> Vec<KernelConfig> {
    let mut c: Vec<KernelConfig> = GPU_TILES.map(|t| tiled(Kernel::MatmulTiled, t)).to_vec();
    c.push(blocked(Kernel::MatmulBlocked, 16, 4));
    c.push(KernelConfig::new(
        Kernel::MatmulTex,
        &[("WG_X", 16), ("WG_Y", 16), ("RA", 1), ("CB", 2)],
    ));
    c
}

fn f16_candidates(cpu: bool) -> Vec<KernelConfig> {
    let tiles: &[[u32; 5]] = if cpu { &CPU_TILES } else { &GPU_TILES };
    let mut c = vec![
        blocked(Kernel::MatmulF16, 8, 4),
        blocked(Kernel::MatmulF16, 8, 8),
    ];
    c.extend(tiles.iter().map(|t| tiled(Kernel::MatmulTiledF16, *t)));
    c
}

/// The tile sides the adapter reports for f16 × f16 → f32 cooperative matrices (square 8 or
/// 16, the shapes WGSL can name).
fn coop_tiles(adapter: &AdapterRecord) -> Vec<u32> {
    let mut tiles: Vec<u32> = adapter
        .cooperative_matrix
        .iter()
        .filter(|shape| shape.input == MatrixScalar::F16 && shape.accumulator == MatrixScalar::F32)
        .filter_map(|shape| shape.square_side())
        .filter(|side| matches!(side, 8 | 16))
        .collect();
    tiles.sort_unstable();
    tiles.dedup();
    tiles
}

/// Cooperative-matrix configurations: for every tile side the adapter reports, 2×2 to 4×2
/// subgroups per workgroup with 2×2 to 4×2 accumulator tiles each, K staged two tiles deep,
/// generated for the adapter's subgroup size. An adapter without cooperative matrices gets
/// the 16×16 layout, recorded as unsupported, so every result file shows the family.
fn coop_candidates(adapter: &AdapterRecord) -> Vec<KernelConfig> {
    let mut tiles = coop_tiles(adapter);
    if tiles.is_empty() {
        tiles.push(16);
    }
    let sg = match adapter.limits.max_subgroup_size {
        0 => 32,
        s => s,
    };
    let mut c = Vec::new();
    for tile in tiles {
        for (sgm, sgn, tm, tn) in [(2, 2, 2, 2), (2, 2, 4, 2), (2, 4, 2, 2), (4, 2, 2, 2)] {
            let shape = [
                ("TILE", tile),
                ("SG", sg),
                ("SGM", sgm),
                ("SGN", sgn),
                ("TM", tm),
                ("TN", tn),
                ("BK", 2 * tile),
            ];
            c.push(KernelConfig::new(Kernel::MatmulCoopF16, &shape));
        }
    }
    c
}

fn int8_candidates(cpu: bool) -> Vec<KernelConfig> {
    let wg = if cpu { 8 } else { 16 };
    vec![
        blocked(Kernel::MatmulInt8, wg, 4),
        blocked(Kernel::MatmulInt8, wg, 8),
        blocked(Kernel::MatmulInt8, 8, 2),
    ]
}

/// The bandwidth kernels searched for `kernel` (copy or triad): element widths 4, 2 and 1 in
/// workgroups of 256, and width 4 in workgroups of 64, each with 1, 4 or 16 elements per
/// invocation (fewer, fatter workgroups suit CPU drivers; one element each suits GPUs); inputs
/// read from storage textures (`TEX` 1) in workgroups of 256 (1 or 4 elements each) and 1024,
/// which on lavapipe move the same bytes about twice as fast as buffer loads; and for a copy
/// the 64-bit copies of `wide_copy_candidates`. The best verified one is the device's
/// bandwidth figure; its case records which won (see [`search_bandwidth`]).
pub fn bandwidth_candidates(kernel: Kernel) -> Vec<KernelConfig> {
    let mut c = Vec::new();
    for (wg, vec) in [(256, 4), (256, 2), (256, 1), (64, 4)] {
        for per in [1, 4, 16] {
            c.push(KernelConfig::new(
                kernel,
                &[("WG_X", wg), ("VEC", vec), ("PER", per)],
            ));
        }
    }
    for (wg, per) in [(256, 1), (256, 4), (1024, 1)] {
        c.push(KernelConfig::new(
            kernel,
            &[("WG_X", wg), ("VEC", 4), ("PER", per), ("TEX", 1)],
        ));
    }
    if kernel == Kernel::Copy {
        c.extend(wide_copy_candidates());
    }
    c
}

/// Copies of 64-bit words (`VEC` 8: `vec4<u64>` elements, on adapters with `shader_int64`):
/// workgroups of 256 with 1, 4 or 8 elements per invocation, and of 1024 with 4. lavapipe
/// splits every storage access into one scalar access per lane and component, so 64-bit
/// components halve the accesses per byte; they were the fastest copies on Mesa 22.3 and 25.0
/// alike, while 16 per invocation ran at half speed on both (README, "Bandwidth on lavapipe").
fn wide_copy_candidates() -> Vec<KernelConfig> {
    [(256, 1), (256, 4), (256, 8), (1024, 4)]
        .into_iter()
        .map(|(wg, per)| KernelConfig::new(Kernel::Copy, &[("WG_X", wg), ("VEC", 8), ("PER", per)]))
        .collect()
}

/// The bandwidth variants the quick preset searches: width 4 in workgroups of 256, from buffers
/// with 1, 4 or 16 elements per invocation and from textures with 1 or 4, and for a copy the
/// 64-bit one in workgroups of 1024 with 4 each (each trial moves device-sized buffers, so the
/// full search would take most of a smoke test's budget on a CPU driver).
pub fn quick_bandwidth_candidates(kernel: Kernel) -> Vec<KernelConfig> {
    bandwidth_candidates(kernel)
        .into_iter()
        .filter(|c| {
            let (wg, vec) = (c.get("WG_X"), c.get("VEC"));
            (wg == 256 && vec == 4) || (wg == 1024 && vec == 8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fake::fake_adapter;

    #[test]
    fn only_copies_search_64_bit_words() {
        let wide = |cs: Vec<KernelConfig>| cs.iter().filter(|c| c.get("VEC") == 8).count();
        assert_eq!(wide(bandwidth_candidates(Kernel::Copy)), 4);
        assert_eq!(wide(quick_bandwidth_candidates(Kernel::Copy)), 1);
        assert_eq!(wide(bandwidth_candidates(Kernel::Triad)), 0);
        assert_eq!(quick_bandwidth_candidates(Kernel::Triad).len(), 5);
    }

    #[test]
    fn the_search_space_follows_the_adapter() {
        let mut cpu = fake_adapter("cpu");
        cpu.device_type = crate::results::DeviceType::Cpu;
        let mut gpu = fake_adapter("gpu");
        gpu.device_type = crate::results::DeviceType::DiscreteGpu;
        let families = |a: &AdapterRecord| -> Vec<Kernel> {
            candidates(a, Dtype::F32).iter().map(|c| c.kernel).collect()
        };
        assert!(families(&cpu).contains(&Kernel::MatmulTex));
        let on_gpu = families(&gpu);
        assert!(on_gpu.iter().filter(|k| **k == Kernel::MatmulTiled).count() >= 6);
        let big = candidates(&gpu, Dtype::F32)
            .into_iter()
            .find(|c| c.get("BM") == 128 && c.get("BN") == 128)
            .unwrap();
        assert!(big.unsupported_reason(&gpu).is_none());
        gpu.limits.max_compute_workgroup_storage_size = 8192;
        assert!(big
            .unsupported_reason(&gpu)
            .unwrap()
            .contains("workgroup memory"));
        assert!(candidates(&gpu, Dtype::I8)
            .iter()
            .all(|c| c.kernel == Kernel::MatmulInt8));
    }
}
