//! Re-exports the Wasmtime C API so that this crate builds into `libwasmtime.a`.
pub use wasmtime_c_api::*;
