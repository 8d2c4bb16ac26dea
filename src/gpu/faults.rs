//! Fault injection for testing the runner's failure paths on a healthy device. Honoured only when
//! `FLEETBENCH_INJECT_FAULTS` is set; the variable is then recorded in the result file's `env`,
//! and `validate` refuses such files, so an injected run can never pass for a measurement.
//!
//! Syntax: comma-separated `KIND[@N]`, where `N` is the 1-based position of the case in the run
//! (every case when omitted). Kinds:
//! - `adapter`: opening the device fails;
//! - `device_lost`: the device is destroyed before case `N` (a real loss, seen through wgpu's
//!   device-lost callback);
//! - `oom`: buffer creation of case `N` reports out-of-memory (the error is synthesised: memory
//!   cannot be exhausted on demand);
//! - `dispatch_limit`: case `N` dispatches one workgroup more than the adapter's per-dimension
//!   limit, bypassing the pre-flight check, so wgpu's own validation must catch it;
//! - `timeout`: waiting for case `N` reports the GPU wait timeout (synthesised after the real
//!   wait, with wgpu's own timeout message).

use crate::error::{Error, Result};
use crate::results::FAULT_ENV;
use std::time::Duration;

/// A fault that can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Opening the device fails.
    Adapter,
    /// The device is lost before the case.
    DeviceLost,
    /// Buffer creation runs out of memory.
    OutOfMemory,
    /// A dispatch beyond the adapter's workgroup limit.
    DispatchLimit,
    /// The wait for the GPU times out.
    Timeout,
}

impl FaultKind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "adapter" => FaultKind::Adapter,
            "device_lost" => FaultKind::DeviceLost,
            "oom" => FaultKind::OutOfMemory,
            "dispatch_limit" => FaultKind::DispatchLimit,
            "timeout" => FaultKind::Timeout,
            _ => return None,
        })
    }
}

/// Parses a fault specification (see the module docs).
pub fn parse_faults(spec: &str) -> Result<Vec<(FaultKind, Option<usize>)>> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (name, at) = match item.split_once('@') {
                Some((n, at)) => (n, Some(at)),
                None => (item, None),
            };
            let kind = FaultKind::parse(name.trim());
            let at = at.map(|a| a.trim().parse::<usize>().ok().filter(|n| *n > 0));
            match (kind, at) {
                (Some(kind), None) => Ok((kind, None)),
                (Some(kind), Some(Some(n))) => Ok((kind, Some(n))),
                _ => Err(Error::Config(format!(
                    "{FAULT_ENV}: cannot parse '{item}' (expected KIND[@N] with KIND one of \
                     adapter, device_lost, oom, dispatch_limit, timeout and N >= 1)"
                ))),
            }
        })
        .collect()
}

/// The faults of the environment; empty when the variable is unset.
fn from_env() -> Result<Vec<(FaultKind, Option<usize>)>> {
    match std::env::var(FAULT_ENV) {
        Ok(spec) => parse_faults(&spec),
        Err(_) => Ok(Vec::new()),
    }
}

/// Fails when the environment asks for an adapter fault, or names a fault that does not exist.
pub(crate) fn check_adapter() -> Result<()> {
    if from_env()?.iter().any(|(k, _)| *k == FaultKind::Adapter) {
        return Err(Error::Gpu(format!(
            "cannot open device: adapter creation failed (injected by {FAULT_ENV})"
        )));
    }
    Ok(())
}

/// Which faults fire on the case in progress.
#[derive(Debug, Default)]
pub(crate) struct Injector {
    plan: Vec<(FaultKind, Option<usize>)>,
    case: usize,
}

impl Injector {
    /// The injector of the environment (already validated by [`check_adapter`]).
    pub(crate) fn from_env() -> Self {
        Injector {
            plan: from_env().unwrap_or_default(),
            case: 0,
        }
    }

    fn armed(&self, kind: FaultKind) -> bool {
        self.plan
            .iter()
            .any(|(k, at)| *k == kind && at.is_none_or(|n| n == self.case))
    }

    /// Moves on to the next case; a `device_lost` fault destroys the device here.
    pub(crate) fn start_case(&mut self, device: &wgpu::Device) {
        self.case += 1;
        if self.armed(FaultKind::DeviceLost) {
            device.destroy();
            // Let wgpu deliver the device-lost callback before the case looks for it.
            let _ = device.poll(wgpu::PollType::Poll);
        }
    }

    /// Reports out-of-memory when armed.
    pub(crate) fn out_of_memory(&self) -> Result<()> {
        if self.armed(FaultKind::OutOfMemory) {
            return Err(Error::Gpu(format!(
                "out of memory: buffer creation failed (injected by {FAULT_ENV})"
            )));
        }
        Ok(())
    }

    /// The dispatch to record: one workgroup past `per_dimension_limit` when armed.
    pub(crate) fn dispatch(&self, planned: [u32; 3], per_dimension_limit: u32) -> [u32; 3] {
        if self.armed(FaultKind::DispatchLimit) {
            return [per_dimension_limit.saturating_add(1), 1, 1];
        }
        planned
    }

    /// Reports wgpu's wait timeout when armed.
    pub(crate) fn timeout(&self, waited: Duration) -> Result<()> {
        if self.armed(FaultKind::Timeout) {
            return Err(Error::Gpu(format!(
                "waiting for the GPU ({:.1} s limit): {} (injected by {FAULT_ENV})",
                waited.as_secs_f64(),
                wgpu::PollError::Timeout
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_typos_are_refused() {
        assert_eq!(
            parse_faults("oom@2, timeout ,device_lost@5").unwrap(),
            vec![
                (FaultKind::OutOfMemory, Some(2)),
                (FaultKind::Timeout, None),
                (FaultKind::DeviceLost, Some(5)),
            ]
        );
        assert!(parse_faults("").unwrap().is_empty());
        for bad in ["oops", "oom@0", "oom@x", "timeout@"] {
            assert!(parse_faults(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn faults_fire_only_on_their_case() {
        let mut injector = Injector {
            plan: parse_faults("oom@2,dispatch_limit").unwrap(),
            case: 1,
        };
        assert!(injector.out_of_memory().is_ok());
        assert_eq!(injector.dispatch([3, 4, 1], 100), [101, 1, 1]);
        injector.case = 2;
        let err = injector.out_of_memory().unwrap_err().to_string();
        assert!(
            err.contains("out of memory") && err.contains("injected"),
            "{err}"
        );
        assert!(injector.timeout(Duration::from_secs(1)).is_ok());
    }
}
