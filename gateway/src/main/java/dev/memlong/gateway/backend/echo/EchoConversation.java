package dev.memlong.gateway.backend.echo;

import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatConversation;
import dev.memlong.gateway.backend.ChatEvent;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/** One conversation of the {@link EchoBackend}: dialogue and memory chunks in RAM, guarded by {@code this}. */
public final class EchoConversation implements ChatConversation {

    private static final int MAX_RETRIEVED = 4;

    private final EchoBackend backend;
    private final String tenant;
    private final String id;
    private final List<ChatTurn> turns = new ArrayList<>();
    private final List<ChatChunk> chunks = new ArrayList<>();
    private long nextSeq;
    private String systemPrompt;

    EchoConversation(EchoBackend backend, String tenant, String id) {
        this.backend = backend;
        this.tenant = tenant;
        this.id = id;
    }

    @Override
    public String tenant() {
        return tenant;
    }

    @Override
    public String conversationId() {
        return id;
    }

    @Override
    public CompletionStage<ChatReply> send(String text, String system, ChatParams params) {
        CompletableFuture<ChatReply> reply = new CompletableFuture<>();
        stream(text, system, params).subscribe(new Flow.Subscriber<>() {
            private Flow.Subscription subscription;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                reply.whenComplete((r, e) -> s.cancel());
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(ChatEvent item) {
                if (item instanceof ChatEvent.Completed c) {
                    reply.complete(c.reply());
                }
            }

            @Override
            public void onError(Throwable t) {
                reply.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                subscription = null;
            }
        });
        return reply;
    }

    @Override
    public Flow.Publisher<ChatEvent> stream(String text, String system, ChatParams params) {
        return subscriber -> new EchoTurn(backend, this, text, system, params, subscriber).start();
    }

    /** The system prompt the last turn that set one set (the echo stores it and otherwise ignores it), or null. */
    public synchronized String systemPrompt() {
        return systemPrompt;
    }

    @Override
    public synchronized CompletionStage<List<ChatTurn>> history() {
        backend.reads.incrementAndGet();
        return CompletableFuture.completedFuture(List.copyOf(turns));
    }

    @Override
    public synchronized CompletionStage<List<ChatChunk>> memory() {
        backend.reads.incrementAndGet();
        return CompletableFuture.completedFuture(List.copyOf(chunks));
    }

    @Override
    public synchronized CompletionStage<Boolean> forget() {
        backend.forgets.incrementAndGet();
        boolean existed = !turns.isEmpty() || !chunks.isEmpty();
        turns.clear();
        chunks.clear();
        return CompletableFuture.completedFuture(existed);
    }

    synchronized int chunkCount() {
        return chunks.size();
    }

    synchronized long memoryTokens() {
        return chunks.stream().mapToLong(ChatChunk::tokenCount).sum();
    }

    /** Chunks sharing a word (3+ letters) with {@code text}, best overlap first then oldest; counts retrievals. */
    synchronized List<ChatReply.Retrieved> retrieve(String text) {
        Set<String> query = words(text);
        List<ChatReply.Retrieved> hits = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            ChatChunk c = chunks.get(i);
            Set<String> shared = words(c.text());
            shared.retainAll(query);
            if (!shared.isEmpty()) {
                hits.add(new ChatReply.Retrieved(c.seq(), (float) shared.size() / Math.max(1, query.size()), c.text()));
            }
        }
        hits.sort((a, b) -> a.score() != b.score() ? Float.compare(b.score(), a.score()) : Long.compare(a.seq(), b.seq()));
        List<ChatReply.Retrieved> top = new ArrayList<>(hits.subList(0, Math.min(MAX_RETRIEVED, hits.size())));
        top.sort((a, b) -> Long.compare(a.seq(), b.seq()));
        for (ChatReply.Retrieved r : top) {
            for (int i = 0; i < chunks.size(); i++) {
                ChatChunk c = chunks.get(i);
                if (c.seq() == r.seq()) {
                    chunks.set(i, new ChatChunk(c.seq(), c.tokenCount(), c.retrievalCount() + 1, c.text()));
                }
            }
        }
        return top;
    }

    /** Commits a finished turn: both messages into the log, the user's text into memory. */
    synchronized void commit(String system, String userText, String replyText) {
        if (system != null && !system.isBlank()) {
            systemPrompt = system;
        }
        turns.add(new ChatTurn(nextSeq++, ChatTurn.Role.USER, userText));
        turns.add(new ChatTurn(nextSeq++, ChatTurn.Role.ASSISTANT, replyText));
        chunks.add(new ChatChunk(nextSeq++, EchoTurn.tokenize(userText).size(), 0, userText));
    }

    private static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (w.length() >= 3) {
                out.add(w);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "EchoConversation[" + tenant + "/" + id + ", " + Arrays.asList(turns.size(), chunks.size()) + "]";
    }
}
