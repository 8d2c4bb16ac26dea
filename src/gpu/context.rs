//! Instance, adapter and device: enumeration, selection, and a device opened with the adapter's
//! own limits and the optional features fleetbench can use.

use crate::error::{Error, Result};
use crate::results::{
    AdapterRecord, CooperativeMatrixShape, DeviceType, LimitsRecord, MatrixScalar,
};
use std::sync::{Arc, Mutex};

/// How the user picked an adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterSelector {
    /// The best adapter available: discrete, then integrated, then anything else.
    Best,
    /// By position in `fleetbench devices`.
    Index(usize),
    /// The first adapter whose name contains this text (case-insensitive).
    Name(String),
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

fn backends_from(filter: Option<&str>) -> Result<wgpu::Backends> {
    let Some(name) = filter else {
        return Ok(wgpu::Backends::all());
    };
    let wanted = match name.to_ascii_lowercase().as_str() {
        "vulkan" => wgpu::Backends::VULKAN,
        "metal" => wgpu::Backends::METAL,
        "dx12" => wgpu::Backends::DX12,
        "gl" | "gles" | "opengl" => wgpu::Backends::GL,
        other => {
            return Err(Error::Config(format!(
                "unknown backend '{other}' (expected vulkan, metal, dx12 or gl)"
            )))
        }
    };
    let built = wgpu::Instance::enabled_backend_features();
    if !built.contains(wanted) {
        return Err(Error::Config(format!(
            "--backend {name}: not available on this platform (this build can use {})",
            backend_names(built)
        )));
    }
    Ok(wanted)
}

/// The names `--backend` takes for the backends in `set`.
fn backend_names(set: wgpu::Backends) -> String {
    let names = [
        (wgpu::Backends::VULKAN, "vulkan"),
        (wgpu::Backends::METAL, "metal"),
        (wgpu::Backends::DX12, "dx12"),
        (wgpu::Backends::GL, "gl"),
    ];
    let present: Vec<&str> = names
        .iter()
        .filter(|(b, _)| set.contains(*b))
        .map(|(_, n)| *n)
        .collect();
    present.join(", ")
}

fn enumerate(backend: Option<&str>) -> Result<Vec<wgpu::Adapter>> {
    let backends = backends_from(backend)?;
    Ok(pollster::block_on(instance().enumerate_adapters(backends)))
}

/// Every adapter wgpu can see on the chosen backends, as records.
pub fn list_adapters(backend: Option<&str>) -> Result<Vec<AdapterRecord>> {
    Ok(enumerate(backend)?
        .iter()
        .enumerate()
        .map(|(i, a)| record(i, a))
        .collect())
}

/// Names of the features fleetbench cares about that the adapter has.
fn feature_names(features: wgpu::Features) -> Vec<String> {
    let known = [
        (wgpu::Features::TIMESTAMP_QUERY, "timestamp_query"),
        (
            wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES,
            "timestamp_query_inside_passes",
        ),
        (wgpu::Features::SHADER_F16, "shader_f16"),
        (wgpu::Features::SHADER_INT64, "shader_int64"),
        (wgpu::Features::SUBGROUP, "subgroup"),
        (
            wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
            "cooperative_matrix",
        ),
        (
            wgpu::Features::PIPELINE_STATISTICS_QUERY,
            "pipeline_statistics_query",
        ),
        (
            wgpu::Features::SHADER_FLOAT32_ATOMIC,
            "shader_float32_atomic",
        ),
    ];
    known
        .iter()
        .filter(|(f, _)| features.contains(*f))
        .map(|(_, n)| n.to_string())
        .collect()
}

fn record(index: usize, adapter: &wgpu::Adapter) -> AdapterRecord {
    let info = adapter.get_info();
    let limits = adapter.limits();
    let features = adapter.features();
    AdapterRecord {
        index,
        name: info.name.clone(),
        backend: info.backend.to_str().to_string(),
        device_type: device_type_of(info.device_type),
        vendor_id: info.vendor,
        device_id: info.device,
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        features: feature_names(features),
        limits: LimitsRecord {
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_texture_dimension_2d: limits.max_texture_dimension_2d,
            min_subgroup_size: info.subgroup_min_size,
            max_subgroup_size: info.subgroup_max_size,
        },
        timestamp_period_ns: None,
        cooperative_matrix: cooperative_shapes(adapter, features),
    }
}

fn cooperative_shapes(
    adapter: &wgpu::Adapter,
    features: wgpu::Features,
) -> Vec<CooperativeMatrixShape> {
    if !features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        return Vec::new();
    }
    adapter
        .cooperative_matrix_properties()
        .iter()
        .map(|p| CooperativeMatrixShape {
            m: p.m_size,
            n: p.n_size,
            k: p.k_size,
            input: matrix_scalar(p.ab_type),
            accumulator: matrix_scalar(p.cr_type),
        })
        .collect()
}

fn matrix_scalar(t: wgpu::CooperativeScalarType) -> MatrixScalar {
    match t {
        wgpu::CooperativeScalarType::F32 => MatrixScalar::F32,
        wgpu::CooperativeScalarType::F16 => MatrixScalar::F16,
        wgpu::CooperativeScalarType::I32 => MatrixScalar::I32,
        wgpu::CooperativeScalarType::U32 => MatrixScalar::U32,
    }
}

fn device_type_of(t: wgpu::DeviceType) -> DeviceType {
    match t {
        wgpu::DeviceType::DiscreteGpu => DeviceType::DiscreteGpu,
        wgpu::DeviceType::IntegratedGpu => DeviceType::IntegratedGpu,
        wgpu::DeviceType::VirtualGpu => DeviceType::VirtualGpu,
        wgpu::DeviceType::Cpu => DeviceType::Cpu,
        wgpu::DeviceType::Other => DeviceType::Other,
    }
}

fn preference(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn backend_preference(b: wgpu::Backend) -> u8 {
    match b {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    }
}

fn select(
    adapters: Vec<wgpu::Adapter>,
    selector: &AdapterSelector,
) -> Result<(usize, wgpu::Adapter)> {
    let count = adapters.len();
    let found = match selector {
        AdapterSelector::Best => adapters.into_iter().enumerate().min_by_key(|(_, a)| {
            let info = a.get_info();
            (
                preference(info.device_type),
                backend_preference(info.backend),
            )
        }),
        AdapterSelector::Index(i) => adapters.into_iter().enumerate().nth(*i),
        AdapterSelector::Name(text) => {
            let needle = text.to_lowercase();
            adapters
                .into_iter()
                .enumerate()
                .find(|(_, a)| a.get_info().name.to_lowercase().contains(&needle))
        }
    };
    found.ok_or_else(|| match selector {
        AdapterSelector::Best => Error::Gpu(no_adapter_message()),
        AdapterSelector::Index(i) => Error::Config(format!(
            "--device {i}: no such adapter ({count} found; see `fleetbench devices`)"
        )),
        AdapterSelector::Name(n) => Error::Config(format!(
            "--device '{n}': no adapter name contains it (see `fleetbench devices`)"
        )),
    })
}

/// The message shown when wgpu finds no adapter at all.
pub fn no_adapter_message() -> String {
    "no GPU adapter found. On a machine without a GPU install Mesa's software Vulkan driver \
     (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`) and run `fleetbench devices` again"
        .to_string()
}

/// An opened device with the facts a runner needs.
pub struct GpuContext {
    /// The record of the adapter, with the timestamp period filled in.
    pub record: AdapterRecord,
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Whether pass timestamps are enabled on the device.
    pub timestamps: bool,
    /// Errors wgpu reported outside any error scope (kept, never panicked on).
    pub uncaptured: Arc<Mutex<Vec<String>>>,
    /// Set when the driver reports the device lost.
    pub lost: Arc<Mutex<Option<String>>>,
}

/// Opens the selected adapter with its own limits and every optional feature fleetbench uses.
pub fn open_device(selector: &AdapterSelector, backend: Option<&str>) -> Result<GpuContext> {
    super::faults::check_adapter()?;
    let (index, adapter) = select(enumerate(backend)?, selector)?;
    let mut record = record(index, &adapter);
    let wanted = wgpu::Features::TIMESTAMP_QUERY
        | wgpu::Features::SHADER_F16
        | wgpu::Features::SHADER_INT64
        | wgpu::Features::SUBGROUP
        | wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
    let features = adapter.features() & wanted;
    let desc = wgpu::DeviceDescriptor {
        label: Some("fleetbench"),
        required_features: features,
        required_limits: adapter.limits(),
        experimental_features: experimental_features(features),
        ..Default::default()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&desc))
        .map_err(|e| Error::Gpu(format!("{}: cannot open device: {e}", record.name)))?;
    let timestamps = features.contains(wgpu::Features::TIMESTAMP_QUERY);
    if timestamps {
        record.timestamp_period_ns = Some(queue.get_timestamp_period());
    }
    let uncaptured = Arc::new(Mutex::new(Vec::new()));
    let sink = uncaptured.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        if let Ok(mut v) = sink.lock() {
            v.push(one_line(&e.to_string()));
        }
    }));
    let lost = Arc::new(Mutex::new(None));
    let lost_sink = lost.clone();
    device.set_device_lost_callback(move |reason, message| {
        if let Ok(mut l) = lost_sink.lock() {
            *l = Some(format!("device lost ({reason:?}): {}", one_line(&message)));
        }
    });
    Ok(GpuContext {
        record,
        device,
        queue,
        timestamps,
        uncaptured,
        lost,
    })
}

/// The cooperative-matrix kernel needs wgpu's experimental-features token; it is granted only
/// when the adapter has that feature, so no other device runs with experimental paths on.
fn experimental_features(features: wgpu::Features) -> wgpu::ExperimentalFeatures {
    if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        // SAFETY: only the cooperative-matrix kernel uses an experimental feature, and its
        // output is verified against a CPU reference like every other case.
        unsafe { wgpu::ExperimentalFeatures::enabled() }
    } else {
        wgpu::ExperimentalFeatures::disabled()
    }
}

/// Folds a multi-line driver or validation message into one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
