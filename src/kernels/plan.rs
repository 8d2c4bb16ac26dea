//! The kernel side of a run plan: the default matmul configurations and the ceiling cases,
//! whose sizes come from the device (never from the suite), so a ceiling reads the same at
//! every suite size.

use super::{Kernel, KernelConfig, PEAK_FMAS_PER_ITER};
use crate::results::AdapterRecord;
use crate::workload::{Dtype, Op, Workload};

/// The family name of vendor-library reference cases (`vendor/<library>/<workload>`).
pub const VENDOR_FAMILY: &str = "vendor";

/// The default matmul configurations measured by `run`.
pub fn default_matmul_configs() -> Vec<KernelConfig> {
    vec![
        KernelConfig::new(Kernel::MatmulNaive, &[("WG_X", 16), ("WG_Y", 16)]),
        KernelConfig::new(
            Kernel::MatmulBlocked,
            &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)],
        ),
    ]
}

/// How large the ceiling dispatches are on one adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CeilingSize {
    /// Invocations of a peak kernel: several waves of every GPU core, or thousands of SIMD
    /// batches per CPU thread.
    invocations: u64,
    /// Loop trips of each peak invocation.
    iters: u64,
    /// f32 elements per bandwidth buffer: several times any last-level cache.
    elements: u64,
}

fn ceiling_size(adapter: &AdapterRecord) -> CeilingSize {
    let cpu = adapter.device_type.is_cpu();
    // A CPU driver runs a few threads; 2^18 invocations × 128 trips are ~6 GFLOP per dispatch,
    // tens of milliseconds at CPU rates. A GPU needs 2^22 invocations (an H200 keeps ~2^18
    // resident) to reach steady state.
    let (invocations, iters) = if cpu { (1 << 18, 128) } else { (1 << 22, 256) };
    // 128 MiB buffers on a CPU; 192 MiB on a GPU (4× the largest L2 shipped, 50 MB on H100/
    // H200), capped by the largest binding the adapter allows.
    let wanted: u64 = if cpu { 32 << 20 } else { 48 << 20 };
    let limit = adapter
        .limits
        .max_storage_buffer_binding_size
        .min(adapter.limits.max_buffer_size)
        / 4;
    let per_dimension = adapter.limits.max_compute_workgroups_per_dimension;
    CeilingSize {
        invocations: fit_one_dimension(invocations, PEAK_WG_X, per_dimension),
        iters,
        elements: fit_one_dimension(wanted.min(limit), STREAM_PER_WORKGROUP, per_dimension),
    }
}

/// Invocations one peak workgroup runs (`WG_X` of the default peak configuration).
const PEAK_WG_X: u64 = 64;
/// Elements one bandwidth workgroup moves in the default configuration (256 × VEC 4 × PER 1).
const STREAM_PER_WORKGROUP: u64 = 1024;

/// The largest multiple of `per_workgroup` not above `wanted` whose one-dimensional dispatch fits
/// `per_dimension` workgroups: data-centre GPUs allow 65535 a dimension, one short of the 65536
/// workgroups that 2^22 peak invocations of 64 would need.
fn fit_one_dimension(wanted: u64, per_workgroup: u64, per_dimension: u32) -> u64 {
    let most = u64::from(per_dimension) * per_workgroup;
    wanted.min(most) / per_workgroup * per_workgroup
}

/// The ceiling cases of a run on `adapter`: ALU peak (f32, f16) and bandwidth (copy, triad),
/// each with its default configuration (the bandwidth search of `tune` may replace those).
pub fn ceiling_cases(adapter: &AdapterRecord) -> Vec<(Workload, KernelConfig)> {
    let size = ceiling_size(adapter);
    let peak = |dtype, iters: u64| Workload {
        op: Op::PeakFma,
        dtype,
        m: size.invocations,
        n: 1,
        k: iters * PEAK_FMAS_PER_ITER,
    };
    let stream = |op| Workload::stream(op, size.elements);
    let stream_kernel = |k| KernelConfig::new(k, &[("WG_X", 256), ("VEC", 4), ("PER", 1)]);
    vec![
        (
            peak(Dtype::F32, size.iters),
            KernelConfig::new(Kernel::PeakFmaF32, &[("WG_X", PEAK_WG_X as u32)]),
        ),
        (
            peak(Dtype::F16, size.iters.min(128)),
            KernelConfig::new(Kernel::PeakFmaF16, &[("WG_X", PEAK_WG_X as u32)]),
        ),
        (stream(Op::Copy), stream_kernel(Kernel::Copy)),
        (stream(Op::Triad), stream_kernel(Kernel::Triad)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fake::fake_adapter;
    use crate::results::DeviceType;

    #[test]
    fn ceilings_depend_on_the_device_only() {
        let mut gpu = fake_adapter("gpu");
        gpu.device_type = DeviceType::DiscreteGpu;
        gpu.limits.max_storage_buffer_binding_size = 1 << 31;
        gpu.limits.max_buffer_size = 1 << 31;
        let mut cpu = gpu.clone();
        cpu.device_type = DeviceType::Cpu;
        let g = ceiling_cases(&gpu);
        let c = ceiling_cases(&cpu);
        assert_eq!(g.len(), 4);
        assert!(g[0].0.m > c[0].0.m, "a GPU gets more peak invocations");
        assert_eq!(c[2].0.m, 32 << 20);
        for (w, k) in g.iter().chain(&c) {
            assert!(k.shape_problem(w).is_none(), "{}", w.key());
        }
        // A small binding limit caps the bandwidth buffers instead of failing them.
        gpu.limits.max_storage_buffer_binding_size = 64 << 20;
        assert_eq!(ceiling_cases(&gpu)[2].0.m, 16 << 20);
    }

    #[test]
    fn ceilings_fit_the_workgroups_a_data_centre_gpu_allows_per_dimension() {
        let adapter = crate::measure::simulate::profile("h200-sxm")
            .expect("a known profile")
            .adapter;
        let limits = adapter.limits.clone();
        assert_eq!(limits.max_compute_workgroups_per_dimension, 65535);
        let cases = ceiling_cases(&adapter);
        assert_eq!(
            cases[0].0.m,
            65535 * 64,
            "peak invocations stop at the dispatch limit"
        );
        for (w, k) in &cases {
            assert_eq!(crate::kernels::resource_problem(k, w, &limits, None), None);
            assert!(k.dispatch(w)[0] <= 65535, "{}", w.key());
        }
    }
}
