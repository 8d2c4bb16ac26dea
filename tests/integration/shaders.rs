//! Every shipped WGSL kernel, and every generated variant the autotuner can pick, parses and
//! validates with naga — no GPU needed. The cooperative-matrix kernel needs naga's
//! COOPERATIVE_MATRIX capability (and its `enable wgpu_cooperative_matrix;` directive); the f16
//! kernels need SHADER_FLOAT16.

use fleetbench::kernels::{texture_matmul_source, ALL_KERNELS};
use fleetbench::tune;
use fleetbench::workload::Dtype;
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn validate(name: &str, source: &str, caps: Capabilities) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source)
        .map_err(|e| format!("{name}: parse: {}", e.emit_to_string(source)))?;
    Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map(|_| ())
        .map_err(|e| format!("{name}: validate: {e:?}"))
}

fn all_caps() -> Capabilities {
    Capabilities::SHADER_FLOAT16 | Capabilities::COOPERATIVE_MATRIX
}

#[test]
fn every_shipped_kernel_validates() {
    for k in ALL_KERNELS {
        validate(k.file, k.source, all_caps()).unwrap();
    }
}

#[test]
fn every_tuning_candidate_validates() {
    for dtype in [Dtype::F32, Dtype::F16] {
        for c in tune::candidates(dtype) {
            validate(c.spec.id, &c.source(), all_caps()).unwrap();
        }
    }
    validate("tex 8x4", &texture_matmul_source(8, 4), all_caps()).unwrap();
}

#[test]
fn cooperative_kernel_needs_the_capability() {
    let coop = ALL_KERNELS
        .iter()
        .find(|k| k.family == "cooperative_matrix")
        .unwrap();
    let err = validate(coop.file, coop.source, Capabilities::SHADER_FLOAT16).unwrap_err();
    assert!(err.contains("validate"), "{err}");
    let f16 = ALL_KERNELS.iter().find(|k| k.id == "peak_fma_f16").unwrap();
    assert!(validate(f16.file, f16.source, Capabilities::empty()).is_err());
}

#[test]
fn every_file_in_shaders_validates() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        validate(&path.display().to_string(), &source, all_caps()).unwrap();
        count += 1;
    }
    assert!(count >= 2, "expected shader files, found {count}");
}

#[test]
fn catalogue_kernels_are_the_shipped_files() {
    for kernel in fleetbench::kernels::ALL_KERNELS {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(kernel.file);
        let on_disk =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            on_disk, kernel.source,
            "{} differs from its embedded copy",
            kernel.file
        );
    }
}

#[test]
fn a_broken_shader_is_rejected() {
    let broken = "@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }";
    assert!(validate("broken", broken, all_caps()).is_err());
}
