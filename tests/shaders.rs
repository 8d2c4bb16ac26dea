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
