//! Turning raw per-dispatch samples into the [`Timing`] a result file stores. `validate` calls
//! the same function, so a stored statistic and its re-derivation can never drift apart.

use super::schema::{RateUnit, Timing, TimingMethod, DISAGREEMENT_LIMIT};
use crate::error::Result;
use crate::stats::Sample;
use crate::workload::Workload;

/// Raw samples of one case, before statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTiming {
    /// Host-clock seconds per dispatch.
    pub host_s: Vec<f64>,
    /// GPU-timestamp seconds per dispatch, if measured.
    pub gpu_s: Option<Vec<f64>>,
    /// Dispatches per timed submission.
    pub dispatches_per_sample: u32,
    /// Warm-up dispatches before the samples.
    pub warmup_dispatches: u32,
}

/// Computes every statistic from the raw samples. GPU timestamps are the headline when present:
/// they exclude submission overhead, which is the host's, not the device's.
pub fn derive_timing(workload: &Workload, raw: RawTiming) -> Result<Timing> {
    let host = Sample::new(&raw.host_s)?;
    let gpu = raw.gpu_s.as_deref().map(Sample::new).transpose()?;
    let (unit, work) = RateUnit::of(workload);
    let (headline, headline_sample) = match &gpu {
        Some(g) => (TimingMethod::GpuTimestamps, g),
        None => (TimingMethod::HostClock, &host),
    };
    let rates: Vec<f64> = headline_sample.sorted().iter().map(|t| work / t).collect();
    let throughput = Sample::new(&rates)?.summary();
    let clock_disagreement = gpu
        .as_ref()
        .map(|g| (host.median() - g.median()).abs() / g.median());
    Ok(Timing {
        headline,
        dispatches_per_sample: raw.dispatches_per_sample,
        warmup_dispatches: raw.warmup_dispatches,
        host: host.summary(),
        gpu: gpu.as_ref().map(Sample::summary),
        host_s: raw.host_s,
        gpu_s: raw.gpu_s,
        unit,
        throughput,
        clock_disagreement,
        clocks_disagree: clock_disagreement.is_some_and(|d| d > DISAGREEMENT_LIMIT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Dtype;

    fn raw(host: &[f64], gpu: Option<&[f64]>) -> RawTiming {
        RawTiming {
            host_s: host.to_vec(),
            gpu_s: gpu.map(<[f64]>::to_vec),
            dispatches_per_sample: 1,
            warmup_dispatches: 3,
        }
    }

    #[test]
    fn throughput_comes_from_gpu_time_when_present() {
        let w = Workload::matmul(Dtype::F32, 1000, 1000, 1000); // 2 GFLOP
        let t = derive_timing(&w, raw(&[0.2, 0.2, 0.2], Some(&[0.1, 0.1, 0.1]))).unwrap();
        assert_eq!(t.headline, TimingMethod::GpuTimestamps);
        assert!((t.throughput.median.value - 20.0).abs() < 1e-9);
        assert_eq!(t.clock_disagreement, Some(1.0));
        assert!(t.clocks_disagree);
    }

    #[test]
    fn host_clock_is_the_headline_without_timestamps() {
        let w = Workload::matmul(Dtype::F32, 1000, 1000, 1000);
        let t = derive_timing(&w, raw(&[0.1, 0.2, 0.4], None)).unwrap();
        assert_eq!(t.headline, TimingMethod::HostClock);
        assert!((t.throughput.median.value - 10.0).abs() < 1e-9);
        assert!((t.throughput.max - 20.0).abs() < 1e-9);
        assert!(!t.clocks_disagree);
    }

    #[test]
    fn close_clocks_are_not_flagged() {
        let w = Workload::matmul(Dtype::F32, 10, 10, 10);
        let t = derive_timing(&w, raw(&[1.05, 1.05], Some(&[1.0, 1.0]))).unwrap();
        assert!(!t.clocks_disagree);
    }

    #[test]
    fn zero_samples_are_rejected() {
        let w = Workload::matmul(Dtype::F32, 10, 10, 10);
        assert!(derive_timing(&w, raw(&[0.0, 1.0], None)).is_err());
    }
}
