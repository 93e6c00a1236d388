/**
 * glibc malloc settings for the processes that convert: the worker's sticker converters
 * (which run this engine) and the ffmpeg runs and spawn helper the engine starts. glibc
 * reads them from the environment when a process starts (Node has no `mallopt`), so they
 * are given to a process by whoever starts it, never set for the running one.
 *
 * Why (issue #12): with the defaults, libvips' threads each grow and trim their own arena
 * to every new working set, and buffers between 128 KiB and 32 MiB (frames, canvases,
 * decode strips) are mmap'd and unmapped per use, so every conversion faults the same
 * memory in again; where a page fault costs ~15 µs (software-virtualised MMUs) that was
 * 15–50 ms of a still. Two arenas, such buffers kept on the heap and no trimming below
 * 256 MiB keep them mapped from one conversion to the next. The cost: a converter keeps up
 * to that much freed memory resident after a large job instead of returning it.
 */
export const CONVERTER_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024),
  MALLOC_TOP_PAD_: String(16 * 1024 * 1024),
};

/** `env` with the converter malloc settings added; a setting already in `env` (the operator's) wins. */
export function converterEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...CONVERTER_MALLOC_ENV, ...env };
}
