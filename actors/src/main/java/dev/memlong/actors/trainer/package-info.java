/**
 * The trainer: MemLong's continual fine-tuning inside a running node. {@link dev.memlong.actors.trainer.TrainerActor}
 * starts rounds (every N dialogue tokens, every T, or on demand), each run by a
 * {@link dev.memlong.actors.trainer.TrainingRound} on the trainer's own thread: the dialogue committed since the
 * last round ({@link dev.memlong.actors.trainer.DialogueDocuments}, opted-out and forgotten conversations left out,
 * some conversations held out), LoRA or full training of the layers above the memory layer, the held-out loss
 * before and after, and publication of a version that passes the gate
 * ({@link dev.memlong.actors.trainer.VersionFiles}, the store's serving pointer). The actor then swaps it into
 * every device between two scheduler steps. The embeddings, layers {@code 0..m} and {@code lm_head} never change, so
 * every stored memory K/V stays valid. Settings: {@link dev.memlong.actors.trainer.TrainerSettings}
 * ({@code memlong.actors.trainer}).
 */
package dev.memlong.actors.trainer;
