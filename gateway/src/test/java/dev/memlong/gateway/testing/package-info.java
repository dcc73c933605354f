/** Test support: a server on a free loopback port over the echo backend, clients, and Netty leak recording. */
package dev.memlong.gateway.testing;
