/**
 * The device scheduler: one worker per device (model replica, KV cache slots, pinned thread) running a
 * continuous-batching step loop with chunked prefill under a per-step token budget.
 */
package dev.memlong.actors.scheduler;
