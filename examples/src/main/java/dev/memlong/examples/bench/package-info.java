/**
 * {@code memlong bench decode}: how close batch-1 decoding and prompt prefill come to what this machine's memory
 * bandwidth and matmul throughput allow, and how they compare with Jlama on the same checkpoint.
 *
 * <p>The parts: {@link dev.memlong.examples.bench.ModelShape} (the benchmark model's dimensions and what they imply),
 * {@link dev.memlong.examples.bench.BenchCheckpoint} (writes the random-weight checkpoint once, atomically),
 * {@link dev.memlong.examples.bench.MachineProbe} (bandwidth and matmul throughput through DJL/PyTorch),
 * {@link dev.memlong.examples.bench.RuntimeBench} (our prefill and decode), {@link dev.memlong.examples.bench.JlamaChild}
 * (the same figures from Jlama, in a child JVM), {@link dev.memlong.examples.bench.Roofline} (the arithmetic) and
 * {@link dev.memlong.examples.bench.DecodeBenchReport} (table and JSON).
 */
package dev.memlong.examples.bench;
