/**
 * Training data and tooling for the {@code memlong train} commands: synthetic multi-session dialogues about
 * remembered facts, a word-piece tokenizer written for them, text and JSONL dialogue readers, the progress line
 * and the loss-curve plot.
 */
package dev.memlong.examples.train;
