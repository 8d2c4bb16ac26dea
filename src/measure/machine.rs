//! Facts about the host that a result file records: OS, CPU, memory, versions, and the
//! environment variables that change how drivers behave — two files that differ only in
//! `LP_NUM_THREADS` must be told apart.

use crate::results::{AdapterRecord, Machine};
use std::collections::BTreeMap;

/// Prefixes of environment variables that change driver or runtime behaviour.
pub const DRIVER_ENV_PREFIXES: &[&str] = &[
    "WGPU_",
    "VK_",
    "MESA_",
    "LP_",
    "GALLIUM_",
    "RADV_",
    "ANV_",
    "NVK_",
    "__GL",
    "CUDA_VISIBLE",
    "NVIDIA_",
    "HIP_VISIBLE",
    "ROCR_VISIBLE",
    "DXVK_",
    "NODEVICE_SELECT",
    "SLURM_LOCALID",
    "SLURM_PROCID",
    "SLURM_JOB_ID",
    "SLURM_ARRAY",
    "JOB_COMPLETION_INDEX",
    "FLEETBENCH_INJECT_FAULTS",
];

/// The driver-relevant subset of `vars`.
pub fn driver_env(vars: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.filter(|(k, _)| DRIVER_ENV_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect()
}

pub use crate::results::now_rfc3339;

/// Today's UTC date, `yyyy-mm-dd`, for default file names.
pub fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

/// Describes this host and the given adapter.
pub fn describe(adapter: AdapterRecord, wgpu_version: &str) -> Machine {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_all();
    sys.refresh_memory();
    let cpu_model = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .unwrap_or_default();
    Machine {
        adapter,
        hostname: sysinfo::System::host_name().unwrap_or_else(|| "unknown".to_string()),
        os: sysinfo::System::long_os_version().unwrap_or_else(|| std::env::consts::OS.to_string()),
        cpu_model,
        cpu_cores: sys.cpus().len(),
        memory_bytes: sys.total_memory(),
        wgpu_version: wgpu_version.to_string(),
        fleetbench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_revision: option_env!("FLEETBENCH_GIT_REVISION").map(str::to_string),
        created_at: now_rfc3339(),
        env: driver_env(std::env::vars()),
        simulated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_driver_variables() {
        let vars = [
            ("LP_NUM_THREADS", "1"),
            ("HOME", "/root"),
            ("MESA_SHADER_CACHE_DISABLE", "true"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let env = driver_env(vars.into_iter());
        assert_eq!(env.len(), 2);
        assert_eq!(env["LP_NUM_THREADS"], "1");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.contains('T'), "{t}");
        assert_eq!(today().len(), 10);
    }
}
