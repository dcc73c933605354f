package dev.memlong.runtime.retriever;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Retriever} for any ONNX BERT-style embedding model (inputs {@code input_ids}, {@code attention_mask}
 * and optionally {@code token_type_ids}; output {@code last_hidden_state} {@code [batch, tokens, hidden]}) with its
 * Hugging Face {@code tokenizer.json}, for example bge-small-en-v1.5 or bge-m3. Texts are tokenised with special
 * tokens and truncated to {@link RetrieverOptions#maxTokens()}, pooled by {@link RetrieverOptions#pooling()} and
 * L2-normalised.
 */
public final class OnnxBertRetriever implements Retriever {

    private static final String LAST_HIDDEN_STATE = "last_hidden_state";

    private final String name;
    private final RetrieverOptions options;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean perText;
    private final boolean feedsTokenTypes;
    private final String output;
    private final ExecutorService workers;
    private final int dimension;
    private volatile boolean closed;

    private OnnxBertRetriever(String name, RetrieverOptions options, OrtSession session, HuggingFaceTokenizer tokenizer,
                              boolean dynamicallyQuantised) throws OrtException {
        this.name = name;
        this.options = options;
        this.env = OrtEnvironment.getEnvironment();
        this.session = session;
        this.tokenizer = tokenizer;
        this.perText = switch (options.batching()) {
            case AUTO -> dynamicallyQuantised;
            case PER_TEXT -> true;
            case PADDED -> false;
        };
        this.feedsTokenTypes = session.getInputNames().contains("token_type_ids");
        for (String required : List.of("input_ids", "attention_mask")) {
            if (!session.getInputNames().contains(required)) {
                throw new RetrieverException(name + ": the model has no input '" + required + "' (inputs: "
                        + session.getInputNames() + ")");
            }
        }
        this.output = session.getOutputNames().contains(LAST_HIDDEN_STATE)
                ? LAST_HIDDEN_STATE : session.getOutputNames().iterator().next();
        requireTokenStates(name, output, session.getOutputInfo().get(output));
        AtomicInteger count = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "retriever-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.dimension = hiddenSize(session.getOutputInfo().get(output));
    }

    /**
     * Loads a model directory holding {@code model.onnx} (or {@code onnx/model.onnx}, external data beside it
     * allowed) and {@code tokenizer.json}.
     */
    public static OnnxBertRetriever fromDirectory(Path dir, RetrieverOptions options) {
        Path model = Files.isRegularFile(dir.resolve("model.onnx")) ? dir.resolve("model.onnx")
                : dir.resolve("onnx").resolve("model.onnx");
        Path tokenizerJson = dir.resolve("tokenizer.json");
        for (Path p : List.of(model, tokenizerJson)) {
            if (!Files.isRegularFile(p)) {
                throw new RetrieverException("retriever model directory " + dir + " has no " + dir.relativize(p));
            }
        }
        try (InputStream tokenizerIn = Files.newInputStream(tokenizerJson);
             InputStream modelIn = Files.newInputStream(model)) {
            boolean quantised = OnnxGraphScan.containsOp(modelIn, OnnxGraphScan.DYNAMIC_QUANTIZE_LINEAR);
            HuggingFaceTokenizer tokenizer = newTokenizer(tokenizerIn, options);
            return open(dir.toString(), options, tokenizer, quantised,
                    so -> OrtEnvironment.getEnvironment().createSession(model.toString(), so));
        } catch (IOException | OrtException e) {
            throw new RetrieverException("cannot load retriever model from " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Loads a model from its ONNX bytes and a {@code tokenizer.json} stream (read, not closed). */
    public static OnnxBertRetriever fromBytes(String name, byte[] onnxModel, InputStream tokenizerJson,
                                              RetrieverOptions options) {
        try {
            boolean quantised = OnnxGraphScan.containsOp(onnxModel, OnnxGraphScan.DYNAMIC_QUANTIZE_LINEAR);
            HuggingFaceTokenizer tokenizer = newTokenizer(tokenizerJson, options);
            return open(name, options, tokenizer, quantised,
                    so -> OrtEnvironment.getEnvironment().createSession(onnxModel, so));
        } catch (IOException | OrtException e) {
            throw new RetrieverException("cannot load retriever model " + name + ": " + e.getMessage(), e);
        }
    }

    private interface SessionFactory {
        OrtSession create(OrtSession.SessionOptions options) throws OrtException;
    }

    /** Creates the session and the retriever; on failure closes what was opened (tokenizer, session). */
    private static OnnxBertRetriever open(String name, RetrieverOptions options, HuggingFaceTokenizer tokenizer,
                                          boolean quantised, SessionFactory sessions) throws OrtException {
        OrtSession session = null;
        try {
            // the session keeps its own copy of the options: theirs is native memory to release at once
            try (OrtSession.SessionOptions so = sessionOptions(options)) {
                session = sessions.create(so);
            }
            return new OnnxBertRetriever(name, options, session, tokenizer, quantised);
        } catch (OrtException | RuntimeException e) {
            tokenizer.close();
            if (session != null) {
                session.close();
            }
            throw e;
        }
    }

    @Override
    public float[][] embed(List<String> texts) {
        if (closed) {
            throw new IllegalStateException("retriever " + name + " is closed");
        }
        long[][] ids = new long[texts.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenizer.encode(texts.get(i)).getIds();
        }
        float[][] out = new float[ids.length][];
        List<int[]> groups = perText ? singletons(ids.length) : lengthSortedBatches(ids);
        if (groups.size() == 1) {
            embedGroup(ids, groups.get(0), out);
            return out;
        }
        List<Future<?>> pending = new ArrayList<>(groups.size());
        for (int[] group : groups) {
            pending.add(workers.submit(() -> embedGroup(ids, group, out)));
        }
        for (Future<?> f : pending) {
            await(f);
        }
        return out;
    }

    @Override
    public String id() {
        // a model directory's own name, not its path: moving the directory does not change the vectors
        return java.nio.file.Path.of(name).getFileName() + "/" + options.pooling().name().toLowerCase(java.util.Locale.ROOT)
                + "/" + options.maxTokens() + "/" + dimension;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    /** How this retriever batches; {@link Batching#AUTO} resolved. */
    public Batching batching() {
        return perText ? Batching.PER_TEXT : Batching.PADDED;
    }

    public RetrieverOptions options() {
        return options;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        workers.shutdownNow();
        tokenizer.close();
        try {
            session.close();
        } catch (OrtException e) {
            throw new RetrieverException("cannot close retriever " + name, e);
        }
    }

    private void embedGroup(long[][] ids, int[] rows, float[][] out) {
        int batch = rows.length;
        int seqLen = 0;
        for (int r : rows) {
            seqLen = Math.max(seqLen, ids[r].length);
        }
        long[] inputIds = new long[batch * seqLen];
        long[] mask = new long[batch * seqLen];
        for (int b = 0; b < batch; b++) {
            long[] row = ids[rows[b]];
            System.arraycopy(row, 0, inputIds, b * seqLen, row.length);
            Arrays.fill(mask, b * seqLen, b * seqLen + row.length, 1L);
        }
        long[] shape = {batch, seqLen};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(inputIds), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (feedsTokenTypes) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[batch * seqLen]), shape));
            }
            try (OrtSession.Result result = session.run(inputs, Set.of(output))) {
                OnnxTensor hidden = (OnnxTensor) result.get(0);
                long[] hiddenShape = hidden.getInfo().getShape();
                int width = (int) hiddenShape[hiddenShape.length - 1];
                FloatBuffer states = hidden.getFloatBuffer();
                for (int b = 0; b < batch; b++) {
                    float[] v = options.pooling().pool(states, (long) b * seqLen * width, ids[rows[b]].length, width);
                    out[rows[b]] = Vectors.l2Normalise(v);
                }
            }
        } catch (OrtException e) {
            throw new RetrieverException("retriever " + name + " failed on a batch of " + batch + ": " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private List<int[]> lengthSortedBatches(long[][] ids) {
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> ids[i].length));
        List<int[]> batches = new ArrayList<>();
        for (int from = 0; from < order.length; from += options.batchSize()) {
            int to = Math.min(order.length, from + options.batchSize());
            batches.add(Arrays.stream(order, from, to).mapToInt(Integer::intValue).toArray());
        }
        return batches;
    }

    private static List<int[]> singletons(int n) {
        List<int[]> groups = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            groups.add(new int[] {i});
        }
        return groups;
    }

    private void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetrieverException("interrupted while embedding with " + name, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new RetrieverException("retriever " + name + " failed", e.getCause());
        }
    }

    /**
     * Pooling reads {@code [batch, tokens, hidden]}; any other output (a pooled {@code [batch, hidden]}, logits)
     * would be read as garbage rather than fail, so it is refused here.
     */
    private static void requireTokenStates(String name, String output, NodeInfo info) {
        if (!(info.getInfo() instanceof TensorInfo tensor) || tensor.getShape().length != 3) {
            throw new RetrieverException(name + ": output '" + output + "' is " + info.getInfo() + ", not the token"
                    + " states [batch, tokens, hidden] pooling needs; export the encoder with a '" + LAST_HIDDEN_STATE
                    + "' output");
        }
    }

    private int hiddenSize(NodeInfo info) throws OrtException {
        long[] shape = ((TensorInfo) info.getInfo()).getShape();
        long last = shape[shape.length - 1];
        if (last > 0) {
            return (int) last;
        }
        return embed("dimension probe").length;
    }

    private static HuggingFaceTokenizer newTokenizer(InputStream tokenizerJson, RetrieverOptions options)
            throws IOException {
        String max = Integer.toString(options.maxTokens());
        return HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of(
                "addSpecialTokens", "true",
                "truncation", "true",
                "padding", "false",
                "maxLength", max,
                "modelMaxLength", max));
    }

    private static OrtSession.SessionOptions sessionOptions(RetrieverOptions options)
            throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        so.setInterOpNumThreads(1);
        so.setIntraOpNumThreads(options.intraOpThreads());
        // Idle ORT threads sleep instead of spinning: the retriever shares its cores with the LLM.
        so.addConfigEntry("session.intra_op.allow_spinning", "0");
        return so;
    }
}
