/**
 * The gateway's typed settings, read once from {@code memlong.gateway} ({@code reference.conf} documents every
 * key); unknown keys and invalid values fail at start-up naming the key.
 */
package dev.memlong.gateway.config;
