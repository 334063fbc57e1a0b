//! The `ujian` binary: parses the command line and hands over to [`server::cli`].

fn main() -> std::process::ExitCode {
    server::cli::main()
}
