//! The ceilings a case is held to. A case that ran on the adapter is held to the published
//! catalog as a [`PeakLookup`]: the adapter is matched to a catalog entry with the same rules
//! `compare` uses, and the check takes the largest dense figure the dtype could reach on that
//! device, so only a throughput no datasheet allows is flagged. A vendor reference that ran on
//! the host CPU (the host SGEMM and stream on a CPU adapter) is held to host figures instead:
//! what its threads could do on the fastest CPU core known ([`host_peak`]). The adapter's
//! ceilings say nothing about it — lavapipe's FMA kernel reaches a fraction of what a tuned
//! SGEMM gets from the same cores, and with `LP_NUM_THREADS` the adapter may use fewer cores.

use super::PeakLookup;
use crate::catalog::{identify, Catalog, CatalogEntry, MatchRules, Precision};
use crate::error::Result;
use crate::results::{AdapterRecord, Case, RateUnit, ResultFile};
use crate::workload::Dtype;

/// Peaks from the embedded datasheet catalog.
pub struct CatalogPeaks {
    catalog: Catalog,
    rules: MatchRules,
}

impl CatalogPeaks {
    /// The catalog and matching rules embedded in the binary.
    pub fn builtin() -> Result<Self> {
        Ok(CatalogPeaks {
            catalog: Catalog::builtin()?,
            rules: MatchRules::builtin()?,
        })
    }

    fn entry(&self, adapter: &AdapterRecord) -> Option<&CatalogEntry> {
        let identity = identify(adapter, &self.rules, &self.catalog);
        identity
            .matched
            .then(|| self.catalog.get(&identity.id))
            .flatten()
    }
}

/// The precisions whose figures bound a dtype: f32 may run on vector units or, through
/// cooperative matrices, as TF32; f16 on vector units or matrix units.
fn precisions(dtype: Dtype) -> &'static [Precision] {
    match dtype {
        Dtype::F32 => &[Precision::Fp32, Precision::Tf32],
        Dtype::F16 => &[Precision::Fp32, Precision::Bf16Fp16Tensor],
        // Datasheet INT8 figures are tensor-core rates, a different engine from WGSL's packed
        // dot products: int8 results are measured-only and no published figure bounds them.
        Dtype::I8 => &[],
    }
}

/// The largest figure in GFLOP/s (or GB/s) `entry` publishes for `unit` and `dtype`.
pub fn entry_peak(entry: &CatalogEntry, unit: RateUnit, dtype: Dtype) -> Option<f64> {
    match unit {
        RateUnit::Gbps => entry.bandwidth_tbs.map(|tbs| tbs * 1000.0),
        RateUnit::Gflops => precisions(dtype)
            .iter()
            .filter_map(|p| entry.dense(*p))
            .reduce(f64::max)
            .map(|tflops| tflops * 1000.0),
    }
}

/// f32 GFLOP/s one CPU thread cannot exceed: two 512-bit FMA units (32 f32 multiply-adds, 64
/// FLOP per cycle) at 6 GHz is 384; no shipping core does more.
pub const HOST_GFLOPS_PER_THREAD: f64 = 400.0;

/// GB/s one CPU thread cannot exceed even from its L1 cache: two 64-byte loads and one 64-byte
/// store per cycle at 6 GHz is 1152 GB/s.
pub const HOST_GBPS_PER_THREAD: f64 = 1200.0;

/// The ceiling of a host reference on `threads` threads, in GFLOP/s or GB/s.
pub fn host_peak(threads: u32, unit: RateUnit) -> f64 {
    let per_thread = match unit {
        RateUnit::Gflops => HOST_GFLOPS_PER_THREAD,
        RateUnit::Gbps => HOST_GBPS_PER_THREAD,
    };
    f64::from(threads.max(1)) * per_thread
}

/// Threads of `case` when it is a reference that ran on the host CPU: its recorded count, or,
/// in files written before that was recorded, every core of the machine.
pub fn host_reference_threads(case: &Case, file: &ResultFile) -> Option<u32> {
    let library = case.kernel.library.as_ref()?;
    if !library.runs_on_host() {
        return None;
    }
    let cores = u32::try_from(file.machine.cpu_cores).unwrap_or(u32::MAX);
    Some(library.host_threads.unwrap_or(cores))
}

/// The ceiling `case` is held to, in its timing's unit: the host's for a host reference, the
/// adapter's published peak otherwise (`None` when the catalog does not know the adapter).
pub fn case_peak(
    case: &Case,
    file: &ResultFile,
    unit: RateUnit,
    peaks: &dyn PeakLookup,
) -> Option<f64> {
    match host_reference_threads(case, file) {
        Some(threads) => Some(host_peak(threads, unit)),
        None => peaks.peak(&file.machine.adapter, unit, case.workload.dtype),
    }
}

impl PeakLookup for CatalogPeaks {
    fn peak(&self, adapter: &AdapterRecord, unit: RateUnit, dtype: Dtype) -> Option<f64> {
        entry_peak(self.entry(adapter)?, unit, dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fake::fake_adapter;

    fn h100() -> AdapterRecord {
        let mut a = fake_adapter("NVIDIA H100 80GB HBM3");
        a.vendor_id = 0x10de;
        a
    }

    #[test]
    fn a_matched_adapter_gets_its_largest_dense_figure() {
        let peaks = CatalogPeaks::builtin().unwrap();
        let f32_peak = peaks.peak(&h100(), RateUnit::Gflops, Dtype::F32).unwrap();
        assert!((f32_peak - 494_700.0).abs() < 1.0, "{f32_peak}"); // TF32 494.7 TFLOP/s
        let f16_peak = peaks.peak(&h100(), RateUnit::Gflops, Dtype::F16).unwrap();
        assert!((f16_peak - 989_400.0).abs() < 1.0, "{f16_peak}");
        let bw = peaks.peak(&h100(), RateUnit::Gbps, Dtype::F32).unwrap();
        assert!((bw - 3350.0).abs() < 1.0, "{bw}");
    }

    #[test]
    fn unknown_adapters_have_no_peak() {
        let peaks = CatalogPeaks::builtin().unwrap();
        let lavapipe = fake_adapter("llvmpipe (LLVM 15.0.6, 256 bits)");
        assert_eq!(peaks.peak(&lavapipe, RateUnit::Gflops, Dtype::F32), None);
    }
}
