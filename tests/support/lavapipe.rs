//! What the lavapipe ground-truth tests (compare_gpu.rs, store_gpu.rs) share: finding Mesa's
//! CPU driver, and reading how many cores the shared host gives right now — their truths (one
//! lavapipe thread against two) only hold while it gives two.

use crate::common::{fleetbench, gpu_available};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The backend Mesa's CPU driver is reached through (Vulkan's lavapipe where it is installed,
/// else llvmpipe's GL), or `None` without one; with FLEETBENCH_REQUIRE_GPU=1 (CI installs
/// Mesa) its absence is a failure, not a skip.
pub fn llvmpipe_backend() -> Option<String> {
    if !gpu_available() {
        return None;
    }
    let out = fleetbench()
        .args(["devices", "--format", "json"])
        .output()
        .unwrap();
    let devices: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let backends: Vec<String> = devices
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["name"].as_str().is_some_and(|n| n.contains("llvmpipe")))
        .filter_map(|d| d["backend"].as_str().map(str::to_string))
        .collect();
    let found = backends
        .iter()
        .find(|b| *b == "vulkan")
        .or(backends.first())
        .cloned();
    if found.is_none() && std::env::var("FLEETBENCH_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!("FLEETBENCH_REQUIRE_GPU=1 but lavapipe (llvmpipe) is not among the adapters");
    }
    found
}

/// Work one thread gets done in a fixed window, for `threads` threads running at once. The
/// work is what lavapipe's matmul kernels do — independent chains of vector multiply-adds —
/// so two threads that share one core's floating-point units (two hyperthreads of one core)
/// read as one core, as they are for the kernels, not as the two a chain of dependent integer
/// adds would see.
fn spin_work(threads: usize) -> u64 {
    let window = Duration::from_millis(300);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut accumulators = [1.0f32; 64];
                let mut rounds = 0u64;
                while start.elapsed() < window {
                    for _ in 0..256 {
                        for a in accumulators.iter_mut() {
                            *a = *a * 0.999_9 + 1e-4;
                        }
                    }
                    accumulators = std::hint::black_box(accumulators);
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

/// How much more work two threads get done than one, right now.
pub fn host_parallelism() -> f64 {
    spin_work(2) as f64 / spin_work(1) as f64
}

/// The host's parallelism once it reaches `enough`, checked every few seconds for up to
/// `wait`; the last reading if it never does. Waiting spends no attempt on a moment when the
/// host gives one core; it never decides whether a test checks anything.
pub fn parallelism_when_available(enough: f64, wait: Duration) -> f64 {
    let start = Instant::now();
    loop {
        let p = host_parallelism();
        if p >= enough || start.elapsed() > wait {
            return p;
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}
