//! The measuring wing: everything that takes samples. A run request, a backend and an observer
//! go in; a verified, self-describing result file comes out. The plan is made up front
//! ([`plan`]), kernels are searched per adapter ([`tune`]), every case is prepared through the
//! [`backend::Backend`] trait and sampled in interleaved rounds ([`rounds`]); host-side
//! vendor references ([`host_refs`]) and the host's own facts ([`machine`]) are recorded beside
//! them. The wgpu runner lives in `gpu/`; [`fake`] is the deterministic stand-in that lets the
//! whole pipeline be tested without a GPU.

pub mod backend;
pub mod fake;
pub mod host_refs;
pub mod machine;
pub mod plan;
pub mod rounds;
pub mod simulate;
pub mod tune;
pub mod verify;
