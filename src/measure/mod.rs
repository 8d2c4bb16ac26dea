//! The measuring wing: everything that takes samples. A run request, a backend and an observer
//! go in; a verified, self-describing result file comes out — one call, [`run()`], so any
//! front end (the binary, a benchmark, a store ingesting results) runs the suite the same way.
//! The plan is made up front ([`plan`]), kernels are searched per adapter ([`tune`]), every
//! case is prepared through the [`backend::Backend`] trait and sampled in interleaved rounds
//! ([`rounds`]); host-side vendor references ([`host_refs`]) and the host's own facts
//! ([`machine`]) are recorded beside them, and [`summary`] is the model the run prints. The
//! wgpu runner lives in `gpu/` and implements the trait (the one import that runs back up);
//! nothing here imports `gpu/`. Every output is checked by [`verify`] (a full f64 product for
//! small shapes, O(n²) checks for large ones, so a data-centre GPU is measured at the sizes where
//! it reaches its limits). [`fake`] is the deterministic stand-in that lets the whole pipeline
//! be tested without a GPU; [`simulate`] stands in for data-centre GPUs with their adapter
//! records and a speed model, a test instrument whose files say so.

pub mod backend;
pub mod fake;
pub mod host_refs;
pub mod machine;
pub mod plan;
pub mod rounds;
mod run;
pub mod simulate;
pub mod summary;
pub mod tune;
pub mod verify;

pub use run::{
    partial_path, run, tune_size, OutputTarget, RunOutcome, RunRequest, TuneRequest, GPU_TUNE_SIZE,
    SMALL_TUNE_SIZE,
};
