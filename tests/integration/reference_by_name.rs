//! `calibrate --reference llvmpipe` (README's example) finds the device by a word of its name,
//! and the id it keeps for a device the catalog lacks works as the reference and as a fleet
//! entry in `project`. Runs on the fake adapter: no GPU needed.

use crate::common::{fleetbench, tempdir};
use std::path::Path;

fn fake_run(dir: &Path, name: &str, gflops: u32, file: &str) {
    let out = fleetbench()
        .args(["run", "--fake", &format!("{name}:{gflops}"), "--kernels"])
        .args([
            "peak_fma_f32",
            "--quick",
            "--samples",
            "5",
            "--seed",
            "3",
            "-q",
            "-o",
        ])
        .arg(dir.join(file))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_word_of_the_name_selects_the_reference_and_its_id_works_in_project() {
    let dir = tempdir();
    let d = dir.path();
    fake_run(d, "llvmpipe (LLVM 15.0.6, 256 bits)", 50, "cpu.json");
    fake_run(d, "lab gpu", 100, "gpu.json");
    let ratios = d.join("ratios.json");
    let out = fleetbench()
        .arg("calibrate")
        .args([d.join("cpu.json"), d.join("gpu.json")])
        .args(["--reference", "llvmpipe", "--metric", "peak-f32", "-o"])
        .arg(&ratios)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("kept as 'llvmpipe-llvm-15-0-6-256-bits'"),
        "{err}"
    );
    let fleet = d.join("lab.toml");
    let toml = "version = 1\nreference = \"llvmpipe-llvm-15-0-6-256-bits\"\n[[fleet]]\nname = \"lab\"\n[[fleet.entry]]\ndevice = \"lab-gpu\"\ncount = 4\n";
    std::fs::write(&fleet, toml).unwrap();
    let out = fleetbench()
        .args(["project", "--format", "csv"])
        .arg(&fleet)
        .arg("--ratios")
        .arg(&ratios)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let total = text
        .lines()
        .find(|l| l.starts_with("lab,calibrated peak-f32,"))
        .unwrap_or_else(|| panic!("no calibrated total: {text}"));
    let value: f64 = total.split(',').nth(2).unwrap().parse().unwrap();
    // 4 devices at twice the reference's rate (fake noise is 2%).
    assert!((value - 8.0).abs() < 0.5, "{total}");
    assert!(text.contains("lab,published fp32,cannot compute"), "{text}");
}

#[test]
fn a_word_shared_by_two_devices_is_refused_with_both_ids() {
    let dir = tempdir();
    let d = dir.path();
    fake_run(d, "lab gpu one", 50, "a.json");
    fake_run(d, "lab gpu two", 100, "b.json");
    let out = fleetbench()
        .arg("calibrate")
        .args([d.join("a.json"), d.join("b.json")])
        .args(["--reference", "lab gpu", "--metric", "peak-f32"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end()
            .lines()
            .filter(|l| l.starts_with("error"))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("lab-gpu-one, lab-gpu-two"), "{err}");
}
