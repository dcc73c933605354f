/**
 * Training on DJL autograd: a differentiable LLaMA forward that computes the same function as the inference
 * decoder (with MemLong's retrieval attention in the loop), LoRA adapters, AdamW with warm-up and decay, gradient
 * clipping and accumulation, data parallelism over training workers, and trained checkpoints (merged or adapter
 * only) written as safetensors with metadata.
 *
 * <p>The frozen part (embeddings, layers {@code 0..m}, {@code lm_head}) is never written to: memory K/V that a
 * deployed model stored before a training round stay valid after it.
 */
package dev.memlong.runtime.train;
