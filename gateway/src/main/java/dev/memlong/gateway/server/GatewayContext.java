package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ChatBackend;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.config.GatewaySettings;
import dev.memlong.gateway.metrics.GatewayMetrics;
import dev.memlong.gateway.security.ApiKeys;
import dev.memlong.gateway.security.TenantRateLimiter;
import dev.memlong.gateway.turn.RequestedParams;
import dev.memlong.gateway.web.StaticAssets;
import io.netty.channel.group.ChannelGroup;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every connection of one server shares: settings, the backend, keys, the rate limiter, metrics, the page's
 * files, the open channels, and whether the server is draining for shutdown.
 */
public record GatewayContext(GatewaySettings settings, ChatBackend backend, ApiKeys apiKeys,
                             TenantRateLimiter rateLimiter, GatewayMetrics metrics, StaticAssets assets,
                             ChannelGroup channels, AtomicBoolean draining) {

    /** The parameters of a request, with this server's defaults and limits. */
    public ChatParams params(RequestedParams requested) {
        return requested.resolve(settings.defaultMaxNewTokens(), settings.maxNewTokensLimit());
    }
}
