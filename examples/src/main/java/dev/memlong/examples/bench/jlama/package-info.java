/**
 * The Jlama side of {@code memlong bench decode}, run in a child JVM (Jlama needs {@code jdk.incubator.vector} and
 * sizes its own thread pool): {@link dev.memlong.examples.bench.jlama.JlamaBenchMain} loads the benchmark checkpoint
 * with F32 weights and F32 working memory, runs the same plan as our runtime through Jlama's own forward and sampling
 * methods, and prints raw timings as one JSON object on stdout.
 */
package dev.memlong.examples.bench.jlama;
