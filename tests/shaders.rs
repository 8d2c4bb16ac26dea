//! Every WGSL file in shaders/ parses and validates with naga, without a GPU, and every kernel
//! the catalogue ships is one of those files with the same text.

use fleetbench::kernels::ALL_KERNELS;
use std::path::PathBuf;

fn shader_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("shaders")
}

fn validate(name: &str, source: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
}

#[test]
fn every_shader_file_validates() {
    let mut count = 0;
    for entry in std::fs::read_dir(shader_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        validate(&path.display().to_string(), &source);
        count += 1;
    }
    assert!(count >= 2, "expected shader files, found {count}");
}

#[test]
fn catalogue_kernels_are_the_shipped_files() {
    for kernel in ALL_KERNELS {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(kernel.file);
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
    let parsed = naga::front::wgsl::parse_str(broken);
    let rejected = match parsed {
        Err(_) => true,
        Ok(module) => naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .is_err(),
    };
    assert!(rejected);
}
