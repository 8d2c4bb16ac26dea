//! The simulated devices: what each reports through Vulkan (type, limits, features, subgroup
//! sizes, cooperative-matrix shapes) and the datasheet figures its speed model starts from.
//! Every profile names its sources; figures no primary source confirmed say so.

use crate::results::{AdapterRecord, CooperativeMatrixShape, DeviceType, LimitsRecord};

/// One simulated device.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The name `--simulate` takes.
    pub id: &'static str,
    /// Where the adapter facts and figures come from.
    pub sources: &'static str,
    /// The adapter record the device gives through Vulkan.
    pub adapter: AdapterRecord,
    /// Dense FP32 (non-tensor) peak, TFLOP/s.
    pub fp32_tflops: f64,
    /// Dense f16 matrix-unit peak with f32 accumulation, TFLOP/s (0: no matrix units).
    pub f16_matrix_tflops: f64,
    /// Packed int8 dot products (DP4A-like) relative to the FP32 rate.
    pub int8_dot_factor: f64,
    /// Memory bandwidth, TB/s.
    pub bandwidth_tbs: f64,
    /// Fraction of the matrix-unit peak a portable cooperative-matrix kernel reaches.
    pub coop_efficiency: f64,
    /// Streaming multiprocessors, compute units or subslices: workgroups run in waves of them.
    pub compute_units: u32,
}

/// Names of every profile, for `--simulate` errors and the README.
pub const PROFILE_IDS: [&str; 4] = ["h100-sxm", "h200-sxm", "mi300x", "iris-xe"];

/// The profile called `id`, if there is one.
pub fn profile(id: &str) -> Option<Profile> {
    match id {
        "h100-sxm" => Some(nvidia_hopper("NVIDIA H100 80GB HBM3", 0x2330, 3.35)),
        "h200-sxm" => Some(nvidia_hopper("NVIDIA H200", 0x2335, 4.8)),
        "mi300x" => Some(mi300x()),
        "iris-xe" => Some(iris_xe()),
        _ => None,
    }
}

const NVIDIA_SOURCES: &str =
    "limits: maxComputeSharedMemorySize 48 KiB and subgroup 32 as NVIDIA's \
Vulkan driver reports them (llama.cpp device logs, ggml-org/llama.cpp#11595, #14982); \
maxStorageBufferRange 4 GiB-1, capped by wgpu to 2 GiB-1 (gfx-rs/wgpu#8105); cooperative-matrix \
shapes: the KHR list in ggml-org/llama.cpp#16086 after wgpu-hal drops K=32 and bf16 entries \
(debug log in ChillFish8/av-denoise#13); peaks: Epoch AI ml_hardware.csv (FP32 66.9, dense FP16 \
tensor 989); the H100 value of maxComputeSharedMemorySize is unverified";

fn nvidia_hopper(name: &str, device_id: u32, bandwidth_tbs: f64) -> Profile {
    let limits = LimitsRecord {
        max_storage_buffer_binding_size: (1 << 31) - 1,
        max_buffer_size: 1 << 36,
        max_compute_workgroup_storage_size: 49152,
        max_compute_invocations_per_workgroup: 1024,
        max_compute_workgroups_per_dimension: 65535,
        max_texture_dimension_2d: 32768,
        min_subgroup_size: 32,
        max_subgroup_size: 32,
    };
    Profile {
        id: if device_id == 0x2330 {
            "h100-sxm"
        } else {
            "h200-sxm"
        },
        sources: NVIDIA_SOURCES,
        adapter: adapter(
            name,
            DeviceType::DiscreteGpu,
            0x10de,
            device_id,
            limits,
            &[16],
        ),
        fp32_tflops: 66.9,
        f16_matrix_tflops: 989.4,
        int8_dot_factor: 1.8,
        bandwidth_tbs,
        // A Vulkan cooperative-matrix microbenchmark reached about 62% of dense f16 on a GH200.
        coop_efficiency: 0.62,
        compute_units: 132,
    }
}

fn mi300x() -> Profile {
    let limits = LimitsRecord {
        max_storage_buffer_binding_size: (1 << 31) - 1,
        max_buffer_size: 1 << 36,
        max_compute_workgroup_storage_size: 65536,
        max_compute_invocations_per_workgroup: 1024,
        max_compute_workgroups_per_dimension: 65535,
        max_texture_dimension_2d: 16384,
        min_subgroup_size: 64,
        max_subgroup_size: 64,
    };
    Profile {
        id: "mi300x",
        sources: "peaks: Epoch AI ml_hardware.csv (FP32 163.4, dense FP16 1307.4, 5.3 TB/s); \
wave64 subgroups and 64 KiB LDS per workgroup follow CDNA3's architecture; that the Vulkan \
driver reports a 16x16x16 f16->f32 cooperative-matrix shape on MI300X is unverified",
        adapter: adapter(
            "AMD Instinct MI300X",
            DeviceType::DiscreteGpu,
            0x1002,
            0x74a1,
            limits,
            &[16],
        ),
        fp32_tflops: 163.4,
        f16_matrix_tflops: 1307.4,
        int8_dot_factor: 2.0,
        bandwidth_tbs: 5.3,
        coop_efficiency: 0.45,
        compute_units: 304,
    }
}

fn iris_xe() -> Profile {
    let limits = LimitsRecord {
        max_storage_buffer_binding_size: (1 << 30) - 1,
        max_buffer_size: 1 << 32,
        max_compute_workgroup_storage_size: 65536,
        max_compute_invocations_per_workgroup: 1024,
        max_compute_workgroups_per_dimension: 65535,
        max_texture_dimension_2d: 16384,
        min_subgroup_size: 8,
        max_subgroup_size: 32,
    };
    Profile {
        id: "iris-xe",
        sources: "integrated laptop GPU (Intel Iris Xe, 96 EU): FP32 about 2.1 TFLOP/s from \
96 EU x 16 FLOP/clock x 1.35 GHz; LPDDR4x-4266 dual channel, about 68 GB/s; subgroup sizes \
8-32 and 64 KiB shared memory as Intel's ANV driver reports them (unverified for this part); \
no cooperative matrices",
        adapter: adapter(
            "Intel(R) Iris(R) Xe Graphics",
            DeviceType::IntegratedGpu,
            0x8086,
            0x9a49,
            limits,
            &[],
        ),
        fp32_tflops: 2.07,
        f16_matrix_tflops: 0.0,
        int8_dot_factor: 2.0,
        bandwidth_tbs: 0.068,
        coop_efficiency: 0.0,
        compute_units: 12,
    }
}

/// The adapter record of a simulated device: backend `simulated`, so no file can pass it off
/// as a Vulkan measurement, with the features a real driver of its kind reports.
fn adapter(
    name: &str,
    device_type: DeviceType,
    vendor_id: u32,
    device_id: u32,
    limits: LimitsRecord,
    coop_sides: &[u32],
) -> AdapterRecord {
    let mut features: Vec<String> = ["timestamp_query", "shader_f16", "subgroup"]
        .map(String::from)
        .to_vec();
    if !coop_sides.is_empty() {
        features.push("cooperative_matrix".to_string());
    }
    AdapterRecord {
        index: 0,
        name: name.to_string(),
        backend: "simulated".to_string(),
        device_type,
        vendor_id,
        device_id,
        driver: "fleetbench-simulated".to_string(),
        driver_info: "speed model, not a measurement".to_string(),
        features,
        limits,
        timestamp_period_ns: Some(1.0),
        cooperative_matrix: coop_sides
            .iter()
            .map(|s| CooperativeMatrixShape::square_f16_f32(*s))
            .collect(),
    }
}
