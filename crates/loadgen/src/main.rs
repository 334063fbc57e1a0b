//! `ujian-loadgen`: the command line lives in [`loadgen::cli`].

fn main() -> std::process::ExitCode {
    loadgen::cli::main()
}
