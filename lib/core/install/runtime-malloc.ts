// The glibc malloc settings of our runtime image's Node processes (driver and provider containers).

/**
 * glibc malloc tunables for our Node processes (driver and provider): blocks of 32 KiB and more (TLS and
 * socket read buffers, V8 compiler zones) get their own mmap and go back to the kernel when freed, instead
 * of staying in the heap between small long-lived blocks. heaptrack showed our processes' live malloc
 * bytes at 6-14 MiB while glibc's heap held 17-19 MiB; a fixed threshold also stops glibc raising it after
 * a large free. Measured in docs/operations.md, "Memory of our image". Not set for the upstream (Go) images.
 */
export const RUNTIME_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=32768:glibc.malloc.trim_threshold=131072';
