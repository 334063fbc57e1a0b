//! The `ujian` binary: parses the command line and hands over to [`server::cli`].

/// mimalloc rather than glibc's malloc: the answer path allocates small, short-lived
/// buffers on every thread, where glibc spends ~10% of the server's CPU (perf, closed
/// loop) and keeps per-thread arenas' memory (argon2's 19 MiB per staff login) for good.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
