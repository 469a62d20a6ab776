//! The `sparsedag._core` extension module: argument conversion and checking only. Every
//! algorithm lives in the `sparsedag` core crate; errors are mapped in `errors.rs`.

mod arrays;
mod coarsen;
mod errors;
mod graph;
mod interrupt;
mod iosched;
mod layering;
mod memory;
mod nn;
mod order;
mod set_mlp;
mod sparse;
mod threads;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    graph::register(m)?;
    layering::register(m)?;
    order::register(m)?;
    threads::register(m)?;
    coarsen::register(m)?;
    memory::register(m)?;
    iosched::register(m)?;
    sparse::register(m)?;
    nn::register(m)?;
    set_mlp::register(m)?;
    Ok(())
}
