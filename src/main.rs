//! emqx-render binary: hands over to the command line, which picks the exit code.
fn main() -> std::process::ExitCode {
    emqx_render::cli::run()
}
