package dev.memlong.gateway.metrics;

import dev.memlong.gateway.backend.BackendStats;
import dev.memlong.gateway.backend.ChatBackend;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;

/**
 * The gateway's meters. Exported names (Prometheus): {@code memlong_tokens_generated_total},
 * {@code memlong_tokens_per_second} (runtime), {@code memlong_reply_tokens_per_second} (per reply),
 * {@code memlong_batch_size}, {@code memlong_queue_depth}, {@code memlong_ttft_seconds},
 * {@code memlong_retrieval_latency_seconds} (per reply: the time its retrievals took, with p50/p99),
 * {@code memlong_retrievals_seconds_count}/{@code _sum} (every retrieval of the runtime, from its counters),
 * {@code memlong_memory_chunk_reads_total{source=cache|disk|read_ahead}} (how retrievals got their chunks: a
 * {@code disk} read made the device wait), {@code memlong_memory_bank_chunks}, {@code memlong_memory_bank_tokens},
 * {@code memlong_conversations{state=active|passivated}}, {@code memlong_trainer_rounds_total} (rounds the
 * backend's trainer ran, {@link BackendStats#trainerRounds()}), {@code memlong_trainer_rounds_published_total} (of
 * those, the ones published),
 * {@code memlong_gateway_requests_total{protocol,kind}}, {@code memlong_gateway_errors_total{code}},
 * {@code memlong_gateway_connections}, {@code memlong_gateway_requests_in_flight}.
 */
public final class GatewayMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ChatBackend backend;
    private final AtomicReference<BackendStats> stats = new AtomicReference<>(BackendStats.EMPTY);
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counter tokens;
    private final Timer ttft;
    private final Timer retrieval;
    private final DistributionSummary replyTokensPerSecond;
    private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);

    public GatewayMetrics(ChatBackend backend) {
        this.backend = backend;
        tokens = Counter.builder("memlong.tokens.generated").description("reply tokens generated").register(registry);
        ttft = Timer.builder("memlong.ttft").description("time to first token").publishPercentiles(0.5, 0.99)
                .register(registry);
        retrieval = Timer.builder("memlong.retrieval.latency").description("memory retrieval time per reply")
                .publishPercentiles(0.5, 0.99).register(registry);
        replyTokensPerSecond = DistributionSummary.builder("memlong.reply.tokens.per.second")
                .description("decode tokens/s of each reply").register(registry);
        gauge("memlong.tokens.per.second", "runtime decode tokens/s", BackendStats::tokensPerSecond);
        gauge("memlong.batch.size", "sequences in the running batches now", BackendStats::batchSize);
        gauge("memlong.queue.depth", "turns waiting for a batch slot now", BackendStats::queueDepth);
        FunctionTimer.builder("memlong.retrievals", stats, s -> s.get().retrievals(),
                        s -> s.get().retrievalNanos(), TimeUnit.NANOSECONDS)
                .description("memory retrievals of the runtime and the time they took").register(registry);
        chunkReads("cache", BackendStats::chunksFromCache);
        chunkReads("disk", BackendStats::chunksFromDisk);
        chunkReads("read_ahead", BackendStats::chunksReadAhead);
        gauge("memlong.memory.bank.chunks", "chunks in active memory banks", BackendStats::memoryBankChunks);
        gauge("memlong.memory.bank.tokens", "tokens in active memory banks", BackendStats::memoryBankTokens);
        Gauge.builder("memlong.conversations", stats, s -> s.get().activeConversations()).tag("state", "active")
                .description("conversations").register(registry);
        Gauge.builder("memlong.conversations", stats, s -> s.get().passivatedConversations())
                .tag("state", "passivated").description("conversations").register(registry);
        FunctionCounter.builder("memlong.trainer.rounds", stats, s -> s.get().trainerRounds())
                .description("training rounds finished, as the trainer reports them").register(registry);
        FunctionCounter.builder("memlong.trainer.rounds.published", stats, s -> s.get().trainerRoundsPublished())
                .description("training rounds whose version was published and swapped in").register(registry);
        Gauge.builder("memlong.gateway.connections", connections, AtomicInteger::get)
                .description("open client connections").register(registry);
        Gauge.builder("memlong.gateway.requests.in.flight", inFlight, AtomicInteger::get)
                .description("requests in flight").register(registry);
        for (ErrorCode code : ErrorCode.values()) {
            errors.put(code, Counter.builder("memlong.gateway.errors").tag("code", code.wireName())
                    .description("requests that ended with an error").register(registry));
        }
    }

    private void chunkReads(String source, ToDoubleFunction<BackendStats> f) {
        FunctionCounter.builder("memlong.memory.chunk.reads", stats, s -> f.applyAsDouble(s.get())).tag("source", source)
                .description("memory chunks retrievals got from the K/V cache, from disk on the device thread, or "
                        + "read ahead off it").register(registry);
    }

    private void gauge(String name, String description, ToDoubleFunction<BackendStats> f) {
        Gauge.builder(name, stats, s -> f.applyAsDouble(s.get())).description(description).register(registry);
    }

    /** The registry, for callers that add their own meters. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition, with the runtime's gauges read now. */
    public String scrape() {
        try {
            stats.set(backend.stats());
        } catch (RuntimeException e) {
            stats.set(BackendStats.EMPTY); // a failing backend must not take /metrics down
        }
        return registry.scrape();
    }

    /** A request of {@code kind} ("chat", "memory", ...) arrived over {@code protocol} ("ws", "http"). */
    public void request(String protocol, String kind) {
        registry.counter("memlong.gateway.requests", "protocol", protocol, "kind", kind).increment();
    }

    /** A request ended with {@code code}. */
    public void error(ErrorCode code) {
        errors.get(code).increment();
    }

    /** A reply finished. */
    public void reply(ChatReply reply) {
        tokens.increment(reply.completionTokens());
        ttft.record(reply.timeToFirstToken());
        if (!reply.retrievalTime().isZero()) {
            retrieval.record(reply.retrievalTime());
        }
        replyTokensPerSecond.record(reply.tokensPerSecond());
    }

    /** Connections open now (the server counts them). */
    public AtomicInteger connections() {
        return connections;
    }

    /** Requests in flight now; graceful shutdown waits for this to reach 0. */
    public AtomicInteger inFlight() {
        return inFlight;
    }
}
