package dev.memlong.examples.bench;

import dev.memlong.actors.Conversation;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.actors.Reply;
import dev.memlong.actors.StreamEvent;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.client.GatewayClient;
import dev.memlong.server.backend.ChatMapping;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One load of the gateway benchmark: {@code clients} conversations at once, each sending {@code turns} user
 * messages one after another (the next when the reply is done), either through the embeddable API in this JVM or
 * as WebSocket clients of the gateway on loopback. Every client runs on a virtual thread; a turn's time to first
 * token is measured by the client, from sending to the first delta.
 *
 * @param clients      conversations at once
 * @param turns        user messages per conversation
 * @param maxNewTokens reply length limit (greedy)
 * @param prefix       conversation id prefix, new per run so every run starts fresh conversations
 * @param timeout      a turn not done by then counts as an error
 */
record ChatLoad(int clients, int turns, int maxNewTokens, String prefix, Duration timeout) {

    /**
     * What a run measured.
     *
     * @param errors  failed turns and connections
     * @param tokens  reply tokens generated
     * @param seconds from the start of the first turn to the end of the last
     * @param ttftMs  time to first token of each turn that produced one
     */
    record Result(long errors, long tokens, double seconds, List<Double> ttftMs) {
        double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    /** The user message of turn {@code t} of client {@code c}: the same in both modes. */
    static String message(int c, int t) {
        String[] topics = {"the river", "my garden", "an old letter", "the morning train", "a blue stone"};
        return "Client " + c + ", turn " + t + ": tell me something about " + topics[(c + t) % topics.length] + ".";
    }

    Result inProcess(MemLongRuntime runtime) throws InterruptedException {
        return drive(c -> {
            Conversation conversation = runtime.conversation(prefix + c);
            return (text, ttft) -> turnInProcess(conversation, text, ttft);
        });
    }

    Result overGateway(URI ws) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
                .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        List<CompletableFuture<GatewayClient>> connecting = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int id = c;
            connecting.add(GatewayClient.connect(http, ws, null, Duration.ofSeconds(30))
                    .thenCompose(client -> client.open(prefix + id, false).thenApply(o -> client)));
        }
        List<GatewayClient> connected = new ArrayList<>();
        long connectErrors = 0;
        for (CompletableFuture<GatewayClient> f : connecting) {
            try {
                connected.add(f.get(60, TimeUnit.SECONDS));
            } catch (Exception e) {
                connectErrors++;
                connected.add(null);
            }
        }
        try {
            Result r = drive(c -> {
                GatewayClient client = connected.get(c);
                if (client == null) {
                    return null;
                }
                ChatParams params = ChatParams.greedy(maxNewTokens);
                return (text, ttft) -> {
                    long start = System.nanoTime();
                    ChatReply reply = client.send(text, params, d -> ttft.compareAndSet(0, System.nanoTime() - start))
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    return reply.completionTokens();
                };
            });
            return new Result(r.errors() + connectErrors, r.tokens(), r.seconds(), r.ttftMs());
        } finally {
            connected.parallelStream().filter(java.util.Objects::nonNull).forEach(GatewayClient::close);
            http.close();
        }
    }

    private int turnInProcess(Conversation conversation, String text, AtomicLong ttft) throws Exception {
        CompletableFuture<Reply> done = new CompletableFuture<>();
        long start = System.nanoTime();
        conversation.stream(text, ChatMapping.generation(ChatParams.greedy(maxNewTokens)))
                .subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(StreamEvent event) {
                        switch (event) {
                            case StreamEvent.Delta d -> ttft.compareAndSet(0, System.nanoTime() - start);
                            case StreamEvent.Completed c -> done.complete(c.reply());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onComplete() { }
                });
        return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS).completionTokens();
    }

    /** A client's turn: sends {@code text}, records the time to first token in {@code ttft}, returns its tokens. */
    private interface Turn {
        int run(String text, AtomicLong ttft) throws Exception;
    }

    private interface Client {
        Turn turnFor(int client);
    }

    private Result drive(Client clientOf) throws InterruptedException {
        AtomicLong tokens = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        ConcurrentLinkedQueue<Double> ttfts = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        long start;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int id = c;
                threads.execute(() -> {
                    Turn turn = clientOf.turnFor(id);
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (turn == null) {
                        return; // its connection failed: counted already
                    }
                    for (int t = 0; t < turns; t++) {
                        AtomicLong ttft = new AtomicLong();
                        try {
                            tokens.addAndGet(turn.run(message(id, t), ttft));
                            if (ttft.get() > 0) {
                                ttfts.add(ttft.get() / 1e6);
                            }
                        } catch (Exception e) {
                            errors.incrementAndGet();
                        }
                    }
                });
            }
            start = System.nanoTime();
            go.countDown();
        } // waits for every client
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(errors.get(), tokens.get(), seconds, List.copyOf(ttfts));
    }
}
