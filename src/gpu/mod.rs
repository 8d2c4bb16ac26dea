//! The only module that talks to wgpu. It turns adapters into [`AdapterRecord`]s and runs the
//! cases the kernel catalogue describes; everything it returns is plain data.
//!
//! [`AdapterRecord`]: crate::results::AdapterRecord

mod bench_api;
mod ceiling;
mod context;
mod faults;
mod matmul;
mod measure;
mod texture;
mod timestamps;

pub use bench_api::PreparedCase;
pub use ceiling::peak_expected;
pub use context::{list_adapters, no_adapter_message, open_device, AdapterSelector, GpuContext};
pub use faults::{parse_faults, FaultKind};
pub use matmul::WgpuBackend;
pub use texture::transpose;
pub use timestamps::ticks_to_seconds;

/// The wgpu version fleetbench is built against, for result files.
pub const WGPU_VERSION: &str = "30.0.2";
