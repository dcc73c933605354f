/**
 * Who a request comes from and how much it may do: API keys bound to tenants
 * ({@link dev.memlong.gateway.security.ApiKeys}, checked on every HTTP request and on the WebSocket upgrade by
 * {@link dev.memlong.gateway.security.AuthHandler}), and a token bucket per tenant
 * ({@link dev.memlong.gateway.security.TenantRateLimiter}).
 */
package dev.memlong.gateway.security;
