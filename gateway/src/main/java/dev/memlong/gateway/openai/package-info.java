/**
 * The OpenAI-compatible HTTP API: {@code POST /v1/chat/completions} (streaming as server-sent events ending in
 * {@code data: [DONE]}, and not) and {@code GET /v1/models}. The conversation is named by the
 * {@code X-Conversation-Id} header or the {@code user} field. The request's {@code model} must be one that
 * {@code GET /v1/models} lists (as in OpenAI's API: absent is 400, unknown 404 {@code model_not_found}). Since
 * OpenAI clients resend the whole dialogue, {@link dev.memlong.gateway.openai.LogAlignment} drops the messages
 * already in the conversation's log.
 */
package dev.memlong.gateway.openai;
