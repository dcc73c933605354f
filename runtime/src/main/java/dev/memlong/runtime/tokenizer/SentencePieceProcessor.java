package dev.memlong.runtime.tokenizer;

import dev.memlong.runtime.tokenizer.SentencePieceModelProto.ModelType;
import dev.memlong.runtime.tokenizer.SentencePieceSegmenter.Segment;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Pure-Java equivalent of SentencePiece's {@code SentencePieceProcessor::Encode}/{@code Decode} for BPE and unigram
 * models: normalize, segment, decompose unknown pieces into byte pieces (byte fallback) or merge runs of unknowns;
 * and back: byte pieces reassembled as UTF-8 (malformed bytes as U+FFFD), control pieces invisible, unknown as the
 * unknown surface, U+2581 as space, the dummy-prefix space dropped at the start.
 */
final class SentencePieceProcessor {

    final SentencePieceModelProto model;
    final SentencePieceVocab vocab;
    private final SentencePieceNormalizer normalizer;

    SentencePieceProcessor(SentencePieceModelProto model) {
        if (model.modelType != ModelType.BPE && model.modelType != ModelType.UNIGRAM) {
            throw new IllegalArgumentException("SentencePiece model type " + model.modelType + " is not supported "
                    + "(only BPE and unigram)");
        }
        if (model.hasDenormalizer) {
            throw new IllegalArgumentException("SentencePiece models with denormalization rules are not supported");
        }
        this.model = model;
        this.vocab = new SentencePieceVocab(model);
        this.normalizer = new SentencePieceNormalizer(model, vocab.userDefinedTrie);
    }

    /**
     * @param text           the text
     * @param addDummyPrefix whether the model's dummy prefix applies (the model's setting for text at the start;
     *                       false for text that follows a special token, as transformers' legacy=False does)
     */
    int[] encode(String text, boolean addDummyPrefix) {
        String bytes = SentencePieceNormalizer.utf8Bytes(text);
        String normalized = normalizer.normalize(bytes, addDummyPrefix && model.addDummyPrefix);
        List<Segment> segments = model.modelType == ModelType.BPE
                ? SentencePieceSegmenter.bpe(vocab, normalized) : SentencePieceSegmenter.unigram(vocab, normalized);
        int[] out = new int[normalized.length() + 1];
        int n = 0;
        boolean prevUnknown = false;
        for (Segment s : segments) {
            boolean unknown = vocab.isUnknown(s.id());
            if (unknown && model.byteFallback) {
                for (int i = 0; i < s.piece().length(); i++) {
                    int id = vocab.byteIds[s.piece().charAt(i)];
                    out[n++] = id >= 0 ? id : vocab.unkId;
                }
            } else if (!(unknown && prevUnknown)) { // runs of unknown pieces become one
                out[n++] = s.id();
            }
            prevUnknown = unknown;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /**
     * @param atStart whether the ids start the text, so that the dummy-prefix space is dropped as SentencePiece
     *                does (false for ids that follow a special token rendered as text)
     */
    String decode(int[] ids, boolean atStart) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean bosWs = atStart;   // whether a leading space symbol may still be consumed
        boolean bosWsSeen = false;
        String space = SentencePieceNormalizer.SPACE_SYMBOL;
        for (int id : ids) {
            if (id < 0 || id >= vocab.pieces.length) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocab.pieces.length);
            }
            if (vocab.isByte(id)) {
                bytes.write(SentencePieceVocab.byteOf(vocab.pieces[id]));
                continue;
            }
            flushBytes(bytes, text);
            if (bosWsSeen || text.size() > 0) {
                bosWs = false;
            }
            String piece = vocab.pieces[id];
            String surface;
            bosWsSeen = false;
            if (vocab.isControl(id)) {
                surface = "";
            } else if (vocab.isUnknown(id)) {
                surface = SentencePieceNormalizer.utf8Bytes(model.unkSurface);
            } else {
                if (bosWs && (model.addDummyPrefix || model.removeExtraWhitespaces) && piece.startsWith(space)) {
                    piece = piece.substring(space.length());
                    bosWsSeen = !model.removeExtraWhitespaces;
                }
                surface = piece.replace(space, " ");
            }
            text.writeBytes(surface.getBytes(StandardCharsets.ISO_8859_1));
        }
        flushBytes(bytes, text);
        return text.toString(StandardCharsets.UTF_8);
    }

    /** Byte pieces: each well-formed UTF-8 character as is, each malformed byte as U+FFFD. */
    private static void flushBytes(ByteArrayOutputStream bytes, ByteArrayOutputStream text) {
        if (bytes.size() == 0) {
            return;
        }
        String b = bytes.toString(StandardCharsets.ISO_8859_1);
        for (int pos = 0; pos < b.length(); ) {
            int len = Utf8.validCharLength(b, pos);
            if (len == 0) {
                text.writeBytes("\uFFFD".getBytes(StandardCharsets.UTF_8));
                pos++;
            } else {
                text.writeBytes(b.substring(pos, pos + len).getBytes(StandardCharsets.ISO_8859_1));
                pos += len;
            }
        }
        bytes.reset();
    }
}
