/**
 * Text to token ids and back, and chat messages to prompt text, exactly as Hugging Face transformers does it for
 * the same model directory.
 *
 * <ul>
 *   <li>{@link dev.memlong.runtime.tokenizer.Tokenizers#open Tokenizers.open(dir)} picks the tokenizer a model
 *       directory has; {@link dev.memlong.runtime.tokenizer.HfTokenizer} runs {@code tokenizer.json} through the
 *       Rust tokenizers library that DJL ships (natives inside the Maven jar, never downloaded).</li>
 *   <li>{@link dev.memlong.runtime.tokenizer.ChatTemplate} renders the model's Jinja chat template with Jinjava,
 *       configured and extended so that it renders what Python jinja2 renders under transformers.</li>
 * </ul>
 */
package dev.memlong.runtime.tokenizer;
