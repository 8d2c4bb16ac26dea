//! The only module that talks to wgpu. It turns adapters into [`AdapterRecord`]s and runs the
//! cases the kernel catalogue describes; everything it returns is plain data.
//!
//! Split by concern, with no cycles: `context` (instance, adapter, device), `buffers` (buffer
//! helpers and read-back, used by all below), `timestamps` (pass timers), `prepare` (every
//! kernel family's pipelines, buffers, bindings and checks), `backend` (submission, bounded
//! waits, read-back, prepared cases for benches), `measure` (the measure loop: prepare,
//! sample, finish), `faults` (injected failures for tests).
//!
//! [`AdapterRecord`]: crate::results::AdapterRecord

mod backend;
mod buffers;
mod context;
mod faults;
mod measure;
mod prepare;
mod timestamps;

pub use backend::{PreparedCase, WgpuBackend};
pub use context::{list_adapters, no_adapter_message, open_device, AdapterSelector, GpuContext};
pub use faults::{parse_faults, FaultKind};
pub use prepare::{peak_expected, transpose};
pub use timestamps::ticks_to_seconds;

/// The wgpu version fleetbench is built against, for result files.
pub const WGPU_VERSION: &str = "30.0.2";
