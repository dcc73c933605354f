/**
 * Who a request comes from and how much it may do: API keys bound to tenants
 * ({@link dev.memlong.gateway.security.ApiKeys}, checked on every HTTP request and on the WebSocket upgrade by
 * {@link dev.memlong.gateway.security.AuthHandler}), a token bucket per tenant
 * ({@link dev.memlong.gateway.security.TenantRateLimiter}), and the checks that keep other web pages out
 * (Host in keyless mode, Origin of the WebSocket upgrade: {@link dev.memlong.gateway.security.BrowserGuard}).
 */
package dev.memlong.gateway.security;
