package dev.memlong.gateway.security;

import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.server.HttpResponses;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Keeps web pages the user happens to visit away from the gateway. A browser lets any page send requests to
 * {@code 127.0.0.1} and open WebSockets anywhere; in the keyless mode every caller is the anonymous tenant, so
 * such a page would be able to read and forget conversations. Two checks, before authentication:
 * <ul>
 *   <li>keyless mode only: the {@code Host} header must name the loopback ({@code localhost}, {@code 127.0.0.1},
 *       {@code [::1]}, any port), else 421. A page that rebinds its own DNS name to 127.0.0.1 still sends its
 *       own name as the Host, so DNS rebinding stops here. With API keys, the key is what protects.</li>
 *   <li>the WebSocket upgrade: the {@code Origin} header must be absent (not a browser), the gateway's own
 *       (its authority equals {@code Host}: the page the gateway serves), or in {@code allowed-origins}; else 403.
 *       WebSockets are not subject to CORS, so this is the only check a browser leaves to the server.</li>
 * </ul>
 * The third way in, a "simple" cross-origin POST with no CORS preflight, is closed by the completions endpoint
 * taking only {@code application/json}.
 */
@ChannelHandler.Sharable
public final class BrowserGuard extends ChannelInboundHandlerAdapter {

    private static final Pattern LOOPBACK_HOST =
            Pattern.compile("(localhost|127\\.0\\.0\\.1|\\[::1\\])(:\\d{1,5})?", Pattern.CASE_INSENSITIVE);

    private final boolean keyless;
    private final Set<String> allowedOrigins;
    private final String wsPath;

    /**
     * @param keyless        whether no API keys are configured (every caller is the anonymous tenant)
     * @param allowedOrigins origins other than the gateway's own that may open a WebSocket
     * @param wsPath         the WebSocket path
     */
    public BrowserGuard(boolean keyless, List<String> allowedOrigins, String wsPath) {
        this.keyless = keyless;
        this.allowedOrigins = Set.copyOf(allowedOrigins.stream().map(o -> o.toLowerCase(Locale.ROOT)).toList());
        this.wsPath = wsPath;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request) || request.decoderResult().isFailure()) {
            ctx.fireChannelRead(msg);
            return;
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        // no Host at all is an HTTP/1.0 tool, not a browser (browsers always send one)
        if (keyless && host != null && !LOOPBACK_HOST.matcher(host.strip()).matches()) {
            refuse(ctx, request, HttpResponseStatus.MISDIRECTED_REQUEST,
                    "without API keys this gateway answers only to localhost, 127.0.0.1 or [::1] as Host");
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        boolean ws = path.equals(wsPath) || path.startsWith(wsPath + "/");
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (ws && origin != null && !originAllowed(origin.strip(), host)) {
            refuse(ctx, request, HttpResponseStatus.FORBIDDEN, "WebSocket connections from origin " + origin
                    + " are not allowed (memlong.gateway.allowed-origins)");
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private boolean originAllowed(String origin, String host) {
        String o = origin.toLowerCase(Locale.ROOT);
        if (allowedOrigins.contains(o)) {
            return true;
        }
        // same origin: the page came from this server under the name the browser is using now
        int scheme = o.indexOf("://");
        return host != null && scheme > 0 && o.substring(scheme + 3).equals(host.strip().toLowerCase(Locale.ROOT));
    }

    /** Answers and closes: nothing a refused page sends next deserves an answer. */
    private static void refuse(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                               String message) {
        ReferenceCountUtil.release(request);
        HttpResponses.sendError(ctx, status, ErrorCode.INVALID, message, false);
    }
}
