//! Every shipped WGSL kernel, and every generated variant the autotuner can pick on any kind of
//! adapter, parses and validates with naga — no GPU needed. The cooperative-matrix kernel needs
//! naga's COOPERATIVE_MATRIX capability (and its `enable wgpu_cooperative_matrix;` directive);
//! the f16 kernels need SHADER_FLOAT16. Each kernel's declared parameters must match the
//! `override`s its shader declares, with the same defaults.

use fleetbench::kernels::{
    coop_matmul_source, stream_source, texture_matmul_source, texture_stream_source,
    tiled_matmul_source, CoopShape, Family, Kernel, KernelConfig, ParamRole, TexShape, TileShape,
};
use fleetbench::measure::fake::fake_adapter;
use fleetbench::measure::tune;
use fleetbench::results::{CooperativeMatrixShape, DeviceType};
use fleetbench::workload::Dtype;
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn parse(name: &str, source: &str) -> Result<naga::Module, String> {
    naga::front::wgsl::parse_str(source)
        .map_err(|e| format!("{name}: parse: {}", e.emit_to_string(source)))
}

fn validate(name: &str, source: &str, caps: Capabilities) -> Result<(), String> {
    let module = parse(name, source)?;
    Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map(|_| ())
        .map_err(|e| format!("{name}: validate: {e:?}"))
}

fn all_caps() -> Capabilities {
    Capabilities::SHADER_FLOAT16
        | Capabilities::COOPERATIVE_MATRIX
        | Capabilities::SUBGROUP
        | Capabilities::SHADER_INT64
}

/// Validates `config`'s source with its pipeline constants applied, as the driver receives
/// it: some rules (a lane index needs a one-dimensional workgroup) hold only once the
/// workgroup size is known.
fn validate_resolved(config: &KernelConfig) -> Result<(), String> {
    let name = format!("{} {:?}", config.id(), config.overrides);
    let source = config.source();
    let module = parse(&name, &source)?;
    let info = Validator::new(ValidationFlags::all(), all_caps())
        .validate(&module)
        .map_err(|e| format!("{name}: validate: {e:?}"))?;
    let constants: naga::back::PipelineConstants = config
        .pipeline_constants()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let entry = Some((naga::ShaderStage::Compute, "main"));
    naga::back::pipeline_constants::process_overrides(&module, &info, entry, &constants)
        .map(|_| ())
        .map_err(|e| format!("{name}: with its constants: {e:?}"))
}

#[test]
fn every_shipped_kernel_validates() {
    for k in Kernel::ALL {
        let shader = k.info().shader;
        validate(shader.path, shader.source, all_caps()).unwrap();
        let default = KernelConfig::new(k, &[]);
        validate(k.id(), &default.source(), all_caps()).unwrap();
    }
}

fn every_candidate() -> Vec<KernelConfig> {
    let mut gpu = fake_adapter("gpu");
    gpu.device_type = DeviceType::DiscreteGpu;
    let mut cpu = gpu.clone();
    cpu.device_type = DeviceType::Cpu;
    let mut all = Vec::new();
    for adapter in [&gpu, &cpu] {
        for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
            all.extend(tune::candidates(adapter, dtype));
        }
    }
    all.extend(tune::bandwidth_candidates(Kernel::Copy));
    all.extend(tune::bandwidth_candidates(Kernel::Triad));
    all
}

#[test]
fn every_tuning_candidate_validates() {
    for c in every_candidate() {
        validate_resolved(&c).unwrap();
    }
    for (ra, cb, ku, share) in [(8, 4, 1, 0), (4, 4, 4, 0), (4, 4, 2, 8), (8, 2, 4, 8)] {
        let shape = TexShape { ra, cb, ku, share };
        let name = format!("tex {shape:?}");
        validate(&name, &texture_matmul_source(&shape), all_caps()).unwrap();
    }
}

#[test]
fn shared_texture_blocks_need_subgroups_and_one_row_workgroups() {
    let shape = [("WG_X", 64), ("WG_Y", 1), ("RA", 8), ("CB", 2), ("KU", 2)];
    let shared = KernelConfig::new(
        Kernel::MatmulTex,
        &[shape.as_slice(), &[("SHARE", 8)]].concat(),
    );
    validate_resolved(&shared).unwrap();
    let source = shared.source();
    assert!(source.contains("subgroupBroadcast(s_1, 7u)"), "{source}");
    assert!(validate("no subgroups", &source, Capabilities::SHADER_FLOAT16).is_err());
    let own = KernelConfig::new(Kernel::MatmulTex, &shape).source();
    assert!(!own.contains("subgroupBroadcast") && !own.contains("@builtin(subgroup"));
    validate("own loads", &own, Capabilities::empty()).unwrap();
    let square = KernelConfig::new(Kernel::MatmulTex, &[("WG_Y", 8), ("SHARE", 8)]);
    let err = validate_resolved(&square).unwrap_err();
    assert!(err.contains("MultiDimensional"), "{err}");
}

#[test]
fn every_well_formed_tile_shape_validates() {
    let mut checked = 0;
    for bm in [32, 64, 128] {
        for bn in [32, 64, 128] {
            for bk in [4, 8, 16, 32] {
                for (tm, tn) in [(4, 4), (8, 4), (4, 8), (8, 8)] {
                    let shape = TileShape { bm, bn, bk, tm, tn };
                    if shape.problem().is_some() {
                        continue;
                    }
                    for f16 in [false, true] {
                        let name = format!("tiled {shape:?} f16={f16}");
                        validate(&name, &tiled_matmul_source(&shape, f16), all_caps()).unwrap();
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} shapes were well formed");
    let bad = TileShape {
        bm: 64,
        bn: 64,
        bk: 6,
        tm: 4,
        tn: 4,
    };
    assert!(bad.problem().is_some());
}

#[test]
fn declared_parameters_match_the_shaders() {
    for c in every_candidate()
        .into_iter()
        .chain(Kernel::ALL.map(|k| KernelConfig::new(k, &[])))
    {
        let module = parse(c.id(), &c.source()).unwrap();
        let in_shader: Vec<(String, Option<f64>)> = module
            .overrides
            .iter()
            .map(|(_, o)| {
                let default = o.init.and_then(|h| match module.global_expressions[h] {
                    naga::Expression::Literal(naga::Literal::U32(v)) => Some(f64::from(v)),
                    _ => None,
                });
                (o.name.clone().unwrap_or_default(), default)
            })
            .collect();
        let declared: Vec<_> = c
            .kernel
            .info()
            .params
            .iter()
            .filter(|p| p.role == ParamRole::Override)
            .collect();
        assert_eq!(in_shader.len(), declared.len(), "{}: {in_shader:?}", c.id());
        for p in declared {
            let found = in_shader.iter().find(|(n, _)| n == p.name);
            let (_, default) =
                found.unwrap_or_else(|| panic!("{}: no override {}", c.id(), p.name));
            assert_eq!(
                *default,
                Some(f64::from(p.default)),
                "{} {}",
                c.id(),
                p.name
            );
        }
    }
}

#[test]
fn stream_variants_change_the_element_type() {
    let src = Kernel::Copy.info().shader.source;
    assert!(stream_source(src, 1, 4).contains("alias V = f32;"));
    assert!(stream_source(src, 2, 1).contains("alias V = vec2<f32>;"));
    assert!(stream_source(src, 4, 2).contains("const PER: u32 = 2u;"));
    let wide = stream_source(src, 8, 4);
    assert!(wide.contains("alias V = vec4<u64>;"), "{wide}");
    validate("copy 64-bit", &wide, all_caps()).unwrap();
    assert!(validate("copy 64-bit", &wide, Capabilities::empty()).is_err());
    let tex = texture_stream_source(src, &["src"], 4);
    assert!(tex.contains("var src_tex: texture_storage_2d<rgba32float, read>"));
    assert!(!tex.contains("var<storage, read> src"), "{tex}");
    validate("copy tex", &tex, all_caps()).unwrap();
    let triad = texture_stream_source(Kernel::Triad.info().shader.source, &["b", "c"], 1);
    assert!(triad.contains("@binding(1) var c_tex"), "{triad}");
    validate("triad tex", &triad, all_caps()).unwrap();
}

#[test]
fn cooperative_kernel_needs_the_capability() {
    let coop = Kernel::ALL
        .into_iter()
        .find(|k| k.info().family == Family::CooperativeMatrix)
        .unwrap()
        .info()
        .shader;
    let err = validate(coop.path, coop.source, Capabilities::SHADER_FLOAT16).unwrap_err();
    assert!(err.contains("validate"), "{err}");
    let f16 = Kernel::PeakFmaF16.info().shader;
    assert!(validate(f16.path, f16.source, Capabilities::empty()).is_err());
    let tiled = KernelConfig::new(Kernel::MatmulTiledF16, &[]).source();
    assert!(validate("tiled f16", &tiled, Capabilities::empty()).is_err());
}

#[test]
fn every_file_in_shaders_belongs_to_a_kernel_and_validates() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        validate(&path.display().to_string(), &source, all_caps()).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            Kernel::ALL
                .iter()
                .any(|k| k.info().shader.path == format!("shaders/{name}")),
            "{name} is not used by any kernel"
        );
        count += 1;
    }
    assert!(count >= 2, "expected shader files, found {count}");
}

#[test]
fn catalogue_kernels_are_the_shipped_files() {
    for kernel in Kernel::ALL {
        let shader = kernel.info().shader;
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(shader.path);
        let on_disk =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            on_disk, shader.source,
            "{} differs from its embedded copy",
            shader.path
        );
    }
}

#[test]
fn a_broken_shader_is_rejected() {
    let broken = "@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }";
    assert!(validate("broken", broken, all_caps()).is_err());
}

#[test]
fn cooperative_tiles_come_from_the_adapter_and_every_variant_validates() {
    let mut gpu = fake_adapter("gpu");
    gpu.device_type = DeviceType::DiscreteGpu;
    gpu.features = vec!["shader_f16".into(), "cooperative_matrix".into()];
    gpu.cooperative_matrix = vec![
        CooperativeMatrixShape::square_f16_f32(8),
        CooperativeMatrixShape::square_f16_f32(16),
    ];
    let mut validated = Vec::new();
    for sg in [32, 64] {
        gpu.limits.min_subgroup_size = sg;
        gpu.limits.max_subgroup_size = sg;
        for c in tune::candidates(&gpu, Dtype::F16) {
            if c.kernel != Kernel::MatmulCoopF16 {
                continue;
            }
            let shape = CoopShape::of(&c);
            assert_eq!(shape.sg, sg, "generated for the adapter's subgroup size");
            let w = fleetbench::workload::Workload::matmul(Dtype::F16, 1024, 1024, 1024);
            if shape.problem().is_some() {
                assert!(
                    c.shape_problem(&w).is_some(),
                    "an ill-formed shape must be refused"
                );
                continue;
            }
            assert!(c.unsupported_reason(&gpu).is_none(), "{:?}", c.overrides);
            assert!(c.shape_problem(&w).is_none(), "{:?}", c.overrides);
            let name = format!("coop {shape:?}");
            validate(&name, &c.source(), all_caps()).unwrap();
            validated.push(shape.tile);
        }
    }
    assert!(
        validated.contains(&8) && validated.contains(&16),
        "{validated:?}"
    );
    // A shape the adapter does not list, or a subgroup size it does not fix, is unsupported.
    let c = KernelConfig::new(Kernel::MatmulCoopF16, &[("TILE", 16), ("SG", 32)]);
    gpu.cooperative_matrix = vec![CooperativeMatrixShape::square_f16_f32(8)];
    assert!(c
        .unsupported_reason(&gpu)
        .unwrap()
        .contains("lack 16x16x16"));
    gpu.cooperative_matrix = vec![CooperativeMatrixShape::square_f16_f32(16)];
    gpu.limits.min_subgroup_size = 16;
    assert!(c.unsupported_reason(&gpu).unwrap().contains("subgroups"));
    let _ = coop_matmul_source(&CoopShape::of(&c));
}
