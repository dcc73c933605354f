/**
 * {@code memlong bench batching}: decode throughput and inter-token latency of the device scheduler's continuous
 * batching at several concurrencies, against the roofline at each batch size, and the effect of a long prompt
 * arriving mid-run.
 */
package dev.memlong.examples.bench.batching;
