//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod coverage;
mod golden;
mod hocon_conformance;
mod operator_docs;
mod validators;
