//! emqx-render binary: hands over to the command line, which picks the exit code.

// Fleet renders allocate and free millions of small values; glibc's malloc spent about a third
// of a 1000-cluster render in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    emqx_render::cli::run()
}
