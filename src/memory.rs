//! Keeps glibc's allocator from holding memory the service no longer uses.
//!
//! glibc gives each thread that contends for the heap an arena of its own
//! (up to eight per core) and keeps what is freed in an arena for reuse by
//! that arena only. The blocking pool's threads (sled reads, the rule
//! compiler) and the writer thread thus each keep a heap of their own: with
//! a million stored comments that came to about 40 MiB of resident memory
//! held free. Opening sled and compiling the rules also free much at once
//! (sled reads its whole page-table snapshot into one buffer). Elsewhere
//! than glibc, both calls do nothing.

/// Caps the number of malloc arenas. Call first thing in `main`, before any
/// thread starts: arenas are created as threads first contend.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; it has no memory
    // preconditions and is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns free heap pages to the operating system: call after start-up,
/// which frees much (sled's snapshot buffer, the rule compiler's work).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases memory that is already free; it
    // takes the allocator's own locks and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
