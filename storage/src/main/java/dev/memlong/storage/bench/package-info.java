/**
 * The storage benchmark ({@link dev.memlong.storage.bench.StorageBenchmark}, wired to {@code memlong bench
 * storage}) and the SIGKILL crash loop ({@link dev.memlong.storage.bench.CrashLoop} driving {@link
 * dev.memlong.storage.bench.CrashChild}) it shares with the crash-safety test. Uses only the public storage API.
 */
package dev.memlong.storage.bench;
