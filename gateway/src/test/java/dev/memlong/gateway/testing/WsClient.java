package dev.memlong.gateway.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.memlong.gateway.proto.ClientFrame;
import dev.memlong.gateway.proto.ServerFrame;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket test client on the JDK's {@link WebSocket}: sends {@code ClientFrame}s (binary or JSON) or raw
 * payloads, and queues every {@code ServerFrame} received (JSON ones parsed back to the message).
 */
public final class WsClient implements AutoCloseable {

    /** What arrived: a frame, or the connection's close. */
    public record Received(ServerFrame frame, boolean json, Integer closeCode) {
        public boolean isClose() {
            return closeCode != null;
        }
    }

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    public final WebSocket socket;

    private WsClient(URI uri, String bearer, HttpClient http) {
        WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        socket = b.buildAsync(uri, new Listener()).join();
    }

    public static WsClient connect(URI uri, String bearer) {
        return new WsClient(uri, bearer, HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build());
    }

    public static WsClient connect(URI uri) {
        return connect(uri, null);
    }

    public void send(ClientFrame frame) {
        socket.sendBinary(ByteBuffer.wrap(frame.toByteArray()), true).join();
    }

    public void sendJson(ClientFrame frame) {
        try {
            socket.sendText(JsonFormat.printer().print(frame), true).join();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    public void sendText(String text) {
        socket.sendText(text, true).join();
    }

    public void sendBytes(byte[] bytes) {
        socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
    }

    /**
     * Sends one binary message as several frames: the first binary, the rest continuations. Stops quietly once
     * the server has closed the connection (refusing the message before its last fragment).
     */
    public void sendFragments(byte[]... fragments) {
        for (int i = 0; i < fragments.length; i++) {
            try {
                socket.sendBinary(ByteBuffer.wrap(fragments[i]), i == fragments.length - 1).join();
            } catch (java.util.concurrent.CompletionException e) {
                if (!closed.isDone() && !socket.isOutputClosed()) {
                    throw e;
                }
                return;
            }
        }
    }

    /** The next frame or close, or null after {@code timeout}. */
    public Received poll(Duration timeout) throws InterruptedException {
        return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next server frame; fails on a close or a timeout of 5 s. */
    public ServerFrame next() throws InterruptedException {
        Received r = poll(Duration.ofSeconds(10));
        if (r == null) {
            throw new AssertionError("no frame within 10 s");
        }
        if (r.isClose()) {
            throw new AssertionError("connection closed with " + r.closeCode());
        }
        return r.frame();
    }

    /** Frames until (and including) the done or error of {@code requestId}. */
    public List<ServerFrame> untilEnd(String requestId) throws InterruptedException {
        List<ServerFrame> out = new ArrayList<>();
        while (true) {
            ServerFrame f = next();
            out.add(f);
            if ((f.hasDone() && f.getDone().getRequestId().equals(requestId))
                    || (f.hasError() && f.getError().getRequestId().equals(requestId))) {
                return out;
            }
        }
    }

    /** The close code once the server closed, waiting up to {@code timeout}. */
    public Integer closeCode(Duration timeout) {
        try {
            return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    public boolean isClosed() {
        return closed.isDone() || socket.isInputClosed();
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                socket.abort();
            }
        }
        socket.abort();
    }

    private final class Listener implements WebSocket.Listener {
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.writeBytes(chunk);
            if (last) {
                try {
                    received.add(new Received(ServerFrame.parseFrom(binary.toByteArray()), false, null));
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError("server sent a bad binary frame", e);
                }
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                ServerFrame.Builder b = ServerFrame.newBuilder();
                try {
                    JsonFormat.parser().merge(text.toString(), b);
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError("server sent a bad JSON frame: " + text, e);
                }
                received.add(new Received(b.build(), true, null));
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            received.add(new Received(null, false, statusCode));
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            received.add(new Received(null, false, -1));
            closed.complete(-1);
        }
    }
}
