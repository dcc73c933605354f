package dev.memlong.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for what the JDK client will not do: any Host or Origin header, several requests
 * written at once (pipelining), reading the answers strictly in the order the bytes arrive.
 */
public final class RawHttp implements AutoCloseable {

    /** One response: status, headers (names in lower case) and body (de-chunked). */
    public record Response(int status, Map<String, String> headers, String body) {}

    private final Socket socket;
    private final InputStream in;

    public RawHttp(int port) throws IOException {
        this(port, 0);
    }

    /** As {@link #RawHttp(int)}, with a socket receive buffer of {@code receiveBufferBytes} (0: the default). */
    public RawHttp(int port, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
    }

    /** A request with a JSON body; {@code headers} are complete lines without CRLF (Host, Origin, ...). */
    public static String post(String path, String json, String... headers) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder("POST " + path + " HTTP/1.1\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("Content-Length: ").append(body.length).append("\r\n\r\n").append(json).toString();
    }

    /** A bodiless GET; {@code headers} are complete lines without CRLF. */
    public static String get(String path, String... headers) {
        StringBuilder sb = new StringBuilder("GET " + path + " HTTP/1.1\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /** Writes {@code requests} (one or more, concatenated) in one go. */
    public void send(String requests) throws IOException {
        socket.getOutputStream().write(requests.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
    }

    /** Reads the next response; fails on anything that is not one. */
    public Response read() throws IOException {
        String statusLine = line();
        if (!statusLine.startsWith("HTTP/1.1 ")) {
            throw new AssertionError("not a status line: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Map<String, String> headers = new HashMap<>();
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).strip().toLowerCase(), h.substring(colon + 1).strip());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size = Integer.parseInt(line().strip(), 16); size > 0; size = Integer.parseInt(line().strip(), 16)) {
                body.write(exactly(size));
                expectCrlf();
            }
            expectCrlf();
        } else if (headers.containsKey("content-length")) {
            body.write(exactly(Integer.parseInt(headers.get("content-length"))));
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    /** Whether the server closed the connection (end of stream within the socket timeout). */
    public boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private byte[] exactly(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new AssertionError("the connection ended in a body");
        }
        return b;
    }

    private void expectCrlf() throws IOException {
        String rest = line();
        if (!rest.isEmpty()) {
            throw new AssertionError("expected the end of a chunk, got: " + rest);
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new AssertionError("the connection ended in a response head");
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
