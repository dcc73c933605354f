package dev.memlong.gateway.security;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A token bucket per tenant, shared by all of the tenant's connections: {@code burst} requests at once, refilled
 * at {@code ratePerSecond}. One bucket per tenant that ever made a request (tenants come from configuration, so
 * this is bounded).
 */
public final class TenantRateLimiter {

    private final double ratePerNano;
    private final double burst;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public TenantRateLimiter(double ratePerSecond, int burst) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = burst;
    }

    /** Takes one request from {@code tenant}'s bucket; false when it is empty. */
    public boolean tryAcquire(String tenant) {
        return buckets.computeIfAbsent(tenant, t -> new Bucket(burst, System.nanoTime())).tryTake(System.nanoTime());
    }

    private final class Bucket {
        private double tokens;
        private long lastNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.lastNanos = now;
        }

        synchronized boolean tryTake(long now) {
            tokens = Math.min(burst, tokens + (now - lastNanos) * ratePerNano);
            lastNanos = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }
}
