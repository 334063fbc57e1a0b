//! `ujian-loadgen`: the command line lives in [`loadgen::cli`].

/// The same allocator as the server, so both sides of a run allocate alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    loadgen::cli::main()
}
