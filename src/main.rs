//! The `loa` binary: everything lives in the library; this only runs the command line.

fn main() -> std::process::ExitCode {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`loa schedule show | head`) instead of failing to print.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // glibc gives each thread that allocates its own heap arena (up to 8 per core), and a
    // daemon whose few threads take turns (tokio workers, the players, SQLite) keeps every
    // arena's freed pages resident: `loa serve` with the demo sat at 35 MB of heap, 16 MB
    // with two arenas (docs/benchmarks.md, "Console"). Two arenas still spread the few
    // threads that allocate at once; MALLOC_ARENA_MAX in the environment still wins.
    // SAFETY: before any thread starts and before the first allocation that matters.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
    loa::cli::run()
}
