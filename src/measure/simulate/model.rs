//! The speed model of a simulated device: a roofline from the datasheet figures, kernel
//! efficiency from tile shapes (register reuse per thread, how full the last wave of
//! workgroups is), a fixed dispatch overhead, clocks that ramp up over the first seconds of
//! work, and a slow run-to-run drift. A test instrument: it exercises every GPU-only code path
//! at GPU speeds, it never stands for a measurement.

use super::profiles::Profile;
use crate::kernels::{CoopShape, Family, Kernel, KernelConfig};
use crate::measure::backend::CaseSpec;
use crate::workload::{Dtype, Op, Workload};

/// Launch cost of one dispatch (submission, scheduling, the kernel's ramp), seconds.
pub const DISPATCH_OVERHEAD_S: f64 = 20e-6;

/// Simulated seconds of work after which clocks have reached their sustained frequency.
pub const RAMP_S: f64 = 2.0;

/// Relative speed at the very start of the ramp.
const RAMP_START: f64 = 0.55;

/// Amplitude and period of the slow drift (thermals, neighbours, clocks).
const DRIFT: (f64, f64) = (0.015, 37.0);

/// Fraction of the datasheet bandwidth a streaming kernel sustains.
const STREAM_EFFICIENCY: f64 = 0.9;

/// Seconds one dispatch of `spec` takes at sustained clocks.
pub fn dispatch_s(profile: &Profile, spec: &CaseSpec) -> f64 {
    let w = spec.workload;
    let bandwidth = profile.bandwidth_tbs * 1e12 * STREAM_EFFICIENCY;
    let work_s = match w.op {
        Op::Matmul => {
            let compute = w.flops() / matmul_rate(profile, &spec.kernel, &w).max(1.0);
            compute.max(w.bytes() / bandwidth)
        }
        Op::PeakFma => w.flops() / (vector_peak(profile, w.dtype) * 0.97),
        Op::Copy | Op::Triad => w.bytes() / bandwidth,
    };
    DISPATCH_OVERHEAD_S + work_s
}

/// How much slower than sustained a dispatch at simulated time `t_s` runs: clocks ramping
/// over [`RAMP_S`], then a slow drift.
pub fn slowdown(t_s: f64) -> f64 {
    let ramp = RAMP_START + (1.0 - RAMP_START) * (t_s / RAMP_S).clamp(0.0, 1.0);
    let drift = 1.0 + DRIFT.0 * (std::f64::consts::TAU * t_s / DRIFT.1).sin();
    drift / ramp
}

/// FLOP/s (integer operations for i8) the vector units reach on `dtype` at full occupancy:
/// FP32 FMAs, packed f16×2 FMAs at twice that, packed int8 dot products at
/// [`Profile::int8_dot_factor`] times it. No kernel that does not use matrix units can go
/// faster.
pub fn vector_peak(profile: &Profile, dtype: Dtype) -> f64 {
    let fp32 = profile.fp32_tflops * 1e12;
    match dtype {
        Dtype::F32 => fp32,
        Dtype::F16 => 2.0 * fp32,
        Dtype::I8 => fp32 * profile.int8_dot_factor,
    }
}

/// FLOP/s of the f16 matrix units (zero on a device without them): the ceiling of a
/// cooperative-matrix kernel.
pub fn matrix_peak(profile: &Profile) -> f64 {
    profile.f16_matrix_tflops * 1e12
}

/// The rate no configuration of `kernel` can pass on `dtype`: the matrix-unit peak for a
/// cooperative-matrix kernel, the vector peak of its precision for every other.
pub fn kernel_ceiling(profile: &Profile, kernel: &KernelConfig, dtype: Dtype) -> f64 {
    if kernel.kernel.info().family == Family::CooperativeMatrix {
        matrix_peak(profile)
    } else {
        vector_peak(profile, dtype)
    }
}

/// FLOP/s (integer operations for i8) a matmul kernel reaches on `w`: its efficiency model,
/// held under [`kernel_ceiling`] so no reuse term can lift a kernel past the units it runs on.
fn matmul_rate(profile: &Profile, kernel: &KernelConfig, w: &Workload) -> f64 {
    modelled_rate(profile, kernel, w).min(kernel_ceiling(profile, kernel, w.dtype))
}

/// The efficiency model alone: a fraction of the FP32 or matrix-unit peak from tile shapes.
fn modelled_rate(profile: &Profile, kernel: &KernelConfig, w: &Workload) -> f64 {
    let fp32 = profile.fp32_tflops * 1e12;
    let fill = |bm: u32, bn: u32| wave_fill(w, bm, bn, profile.compute_units);
    match kernel.kernel {
        Kernel::MatmulNaive => fp32 * 0.02,
        Kernel::MatmulBlocked | Kernel::MatmulF16 => fp32 * 0.08,
        Kernel::MatmulTex => fp32 * 0.1,
        Kernel::MatmulTiled | Kernel::MatmulTiledF16 => {
            let (bm, bn) = (kernel.get("BM").max(1), kernel.get("BN").max(1));
            fp32 * register_reuse(kernel) * fill(bm, bn)
        }
        Kernel::MatmulCoopF16 => {
            let shape = CoopShape::of(kernel);
            let (bm, bn) = shape.block();
            // Accumulator tiles per subgroup play the part of outputs per thread.
            let reuse = (f64::from(shape.tm * shape.tn) / 16.0).min(1.0).sqrt();
            let peak = matrix_peak(profile) * profile.coop_efficiency;
            peak * reuse * fill(bm.max(1), bn.max(1))
        }
        Kernel::MatmulInt8 => fp32 * profile.int8_dot_factor * 0.6,
        Kernel::PeakFmaF32 | Kernel::PeakFmaF16 | Kernel::Copy | Kernel::Triad => fp32,
    }
}

/// Efficiency from outputs per thread: each value staged in workgroup memory is reused TM or
/// TN times; 8×8 per thread reached about 85% of the vendor library in published SGEMM
/// write-ups, fewer outputs proportionally less (square-root law: reuse grows with the side).
fn register_reuse(kernel: &KernelConfig) -> f64 {
    let outputs = f64::from(kernel.get("TM").max(1) * kernel.get("TN").max(1));
    0.85 * (outputs / 64.0).min(1.0).sqrt()
}

/// How full the device is on average: workgroups run in waves of two per compute unit, and
/// the last wave may be partly empty.
fn wave_fill(w: &Workload, bm: u32, bn: u32, units: u32) -> f64 {
    let tiles = w.m.div_ceil(u64::from(bm)) * w.n.div_ceil(u64::from(bn));
    let slots = 2 * u64::from(units.max(1));
    let waves = tiles.div_ceil(slots).max(1);
    tiles as f64 / (waves * slots) as f64
}
