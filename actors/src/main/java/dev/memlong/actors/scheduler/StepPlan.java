package dev.memlong.actors.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * What one step of a device worker feeds, as two batches: every decoding turn feeds its last token (one token per
 * row, no padding); then prompts being prefilled take pieces (never past a memory-chunk boundary, so retrieval runs
 * at every boundary) until the step's token budget, which the decode tokens spent first, is used up, starting with
 * a different prompt each step ({@code rotation}). A turn whose piece needs embeddings first sits the step out
 * ({@link EmbeddingGate}); a prompt piece chosen for a turn that then waited is the one it feeds once they arrive.
 *
 * @param decoding      decoding turns, each feeding {@code decodePieces} at the same index
 * @param prefill       prefilling turns, each feeding {@code prefillPieces} at the same index
 */
record StepPlan(List<RunningTurn> decoding, List<int[]> decodePieces, List<RunningTurn> prefill,
                List<int[]> prefillPieces) {

    static StepPlan of(List<RunningTurn> running, int tokenBudget, int rotation, EmbeddingGate embeddings) {
        List<RunningTurn> decoding = new ArrayList<>();
        List<int[]> decodePieces = new ArrayList<>();
        List<RunningTurn> prefilling = new ArrayList<>();
        for (RunningTurn turn : running) {
            if (turn.decoding()) {
                int[] piece = turn.decodePiece();
                if (embeddings.ready(turn, piece)) {
                    decoding.add(turn);
                    decodePieces.add(piece);
                }
            } else if (!turn.awaitingEmbeddings()) {
                prefilling.add(turn);
            }
        }
        int budget = tokenBudget - decoding.size();
        List<RunningTurn> prefill = new ArrayList<>();
        List<int[]> prefillPieces = new ArrayList<>();
        for (int i = 0; i < prefilling.size() && budget > 0; i++) {
            RunningTurn turn = prefilling.get((rotation + i) % prefilling.size());
            int n = turn.plannedPiece() > 0 ? turn.plannedPiece()
                    : turn.resident().sequence.nextPieceLength(Math.min(turn.remainingPrompt(), budget));
            int[] piece = turn.promptPiece(n);
            if (embeddings.ready(turn, piece)) {
                prefill.add(turn);
                prefillPieces.add(piece);
                budget -= n;
            }
        }
        return new StepPlan(decoding, decodePieces, prefill, prefillPieces);
    }
}
