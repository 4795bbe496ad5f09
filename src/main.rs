//! emqx-render binary entry point.
fn main() {}
