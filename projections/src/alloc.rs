//! The process allocator during a rebuild.
//!
//! The `timebank` binary (and the rebuild benchmark) allocate with mimalloc, which by
//! default keeps freed memory committed for about ten seconds before it gives it back
//! to the system. A rebuild frees and allocates hundreds of megabytes in that time (pages
//! of decoded events, rows of each flush), so its resident memory followed what it had
//! held over the last seconds rather than what it held at once: 264–307 MiB on the
//! 1 M-event demo (the target is 300 MB), for a heap that peaked near 190 MB. Giving
//! freed memory back after 5 ms keeps it at 243–251 MiB at the same speed; after 1 ms
//! it cost 3% of the time (A/B in BENCHMARKS.md).

/// mimalloc's `mi_option_purge_delay` (the same index in its versions 2 and 3).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes the allocator return freed memory to the system after `millis` milliseconds
/// (mimalloc's default is 1,000, and ten times that for its arenas). It takes effect at
/// once, for every thread. Harmless when mimalloc is not the global allocator: only its
/// own (unused) pool is affected.
#[allow(unsafe_code)]
pub fn purge_freed_memory_after(millis: u32) {
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option table (an
    // atomic store); the option index is in range and any value is valid for it.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, std::ffi::c_long::from(millis)) }
}

/// The delay a rebuild runs with, in milliseconds.
pub const REBUILD_PURGE_DELAY_MS: u32 = 5;

/// The allocator setting for a process that rebuilds (`timebank rebuild`).
pub fn tune_for_rebuild() {
    purge_freed_memory_after(REBUILD_PURGE_DELAY_MS);
}
