package dev.memlong.examples.cli;

import picocli.CommandLine.Command;

/** Benchmarks (measurements, not tests). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks",
        subcommands = {BenchDecodeCommand.class, BenchMemoryCommand.class, StorageBenchCommand.class,
            BenchTrainCommand.class, BenchGatewayCommand.class, BenchBatchingCommand.class,
            BenchRecallCommand.class, BenchEmbeddingCommand.class, BenchKvCacheCommand.class})
final class BenchCommand implements Runnable {

    @Override
    public void run() {
        throw new IllegalArgumentException("name a benchmark: memlong bench --help");
    }
}
