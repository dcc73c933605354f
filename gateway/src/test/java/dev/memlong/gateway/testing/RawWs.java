package dev.memlong.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import java.util.zip.Deflater;

/**
 * A WebSocket client over a plain socket, for what the JDK client will not send: fragments of our choosing and
 * permessage-deflate compressed frames (RFC 7692). Frames written are masked, as a client's must be.
 */
public final class RawWs implements AutoCloseable {

    /** A frame from the server: its opcode, and for a close frame its status (else -1). */
    public record Frame(int opcode, byte[] payload) {
        public boolean isClose() {
            return opcode == 0x8;
        }

        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }
    }

    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CONTINUATION = 0x0;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Random random = new Random(1);
    /** Whether the server accepted permessage-deflate. */
    public final boolean deflate;

    /** Opens a WebSocket at /ws on loopback {@code port}, offering permessage-deflate when {@code offerDeflate}. */
    public RawWs(int port, boolean offerDeflate) throws IOException {
        this(port, offerDeflate, 0);
    }

    /** As {@link #RawWs(int, boolean)}, with a socket receive buffer of {@code receiveBufferBytes} (0: the default). */
    public RawWs(int port, boolean offerDeflate, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        byte[] key = new byte[16];
        random.nextBytes(key);
        String request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                + Base64.getEncoder().encodeToString(key) + "\r\n"
                + (offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "") + "\r\n";
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = readHead();
        if (!head.startsWith("HTTP/1.1 101")) {
            throw new IOException("upgrade refused: " + head);
        }
        deflate = head.toLowerCase(java.util.Locale.ROOT).contains("permessage-deflate");
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (true) {
            head.write(in.readUnsignedByte());
            byte[] b = head.toByteArray();
            int n = b.length;
            if (n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
                return head.toString(StandardCharsets.US_ASCII);
            }
        }
    }

    /** Writes one frame; {@code rsv1} marks a compressed message's first frame under permessage-deflate. */
    public void send(int opcode, boolean fin, boolean rsv1, byte[] payload) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else if (payload.length < 65_536) {
            f.write(0x80 | 126);
            f.write(payload.length >>> 8);
            f.write(payload.length & 0xff);
        } else {
            f.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                f.write((int) ((long) payload.length >>> shift) & 0xff);
            }
        }
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        f.write(mask);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ mask[i & 3]);
        }
        out.write(f.toByteArray());
        out.flush();
    }

    /** {@code data} compressed as one permessage-deflate message body (raw deflate, sync-flush tail removed). */
    public static byte[] deflated(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0) {
            out.write(buf, 0, n);
        }
        deflater.end();
        byte[] all = out.toByteArray();
        return Arrays.copyOf(all, all.length - 4); // RFC 7692 7.2.1: drop the 00 00 ff ff tail
    }

    /** The next frame from the server, or null when the connection ended (EOF or reset) without one. */
    public Frame read() throws IOException {
        try {
            int b0 = in.readUnsignedByte();
            int b1 = in.readUnsignedByte();
            long len = b1 & 0x7f;
            if (len == 126) {
                len = in.readUnsignedShort();
            } else if (len == 127) {
                len = in.readLong();
            }
            byte[] payload = new byte[(int) len];
            in.readFully(payload);
            return new Frame(b0 & 0x0f, payload);
        } catch (EOFException | java.net.SocketException e) {
            return null;
        }
    }

    /** Frames until a close frame, which is returned; null when the connection ended without one. */
    public Frame untilClose() throws IOException {
        while (true) {
            Frame f;
            try {
                f = read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no close within the socket timeout", e);
            }
            if (f == null || f.isClose()) {
                return f;
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
