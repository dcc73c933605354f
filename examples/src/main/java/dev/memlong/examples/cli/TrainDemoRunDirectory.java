package dev.memlong.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code train-demo}'s --out across runs: what it may overwrite, the options a resumed run must share with the run it
 * continues, and the intermediate directories (OUT/base, OUT/stage1, OUT/checkpoint) a finished run removes.
 */
final class TrainDemoRunDirectory {

    /** The options of the run whose checkpoints OUT holds, so --resume can refuse different ones. */
    static final String OPTIONS_FILE = "train-demo-options.json";
    /** Step counts a resumed run may raise (a stage continues to the new count; a finished stage is kept). */
    private static final Set<String> RESUME_MAY_EXTEND = Set.of("--pretrain-steps", "--memlong-steps");

    private final Path out;
    private final boolean force;
    private final boolean resume;
    private final Map<String, String> trainingOptions;

    /** @param trainingOptions this run's options that shape what is trained ({@link TrainDemoOptions#trainingOptions}) */
    TrainDemoRunDirectory(Path out, boolean force, boolean resume, Map<String, String> trainingOptions) {
        this.out = out;
        this.force = force;
        this.resume = resume;
        this.trainingOptions = trainingOptions;
    }

    /**
     * Refuses to overwrite: without --force or --resume, an --out holding a model or a previous run's intermediate
     * directories (which this run would replace and, at its end, delete) is an error, so that the default --out, the
     * shipped model, is not retrained by accident. With --resume, the options must be those the run started with.
     */
    void checkOut() throws java.io.IOException {
        if (!resume && !force && holdsAModelOrARun(out)) {
            throw new IllegalArgumentException("--out " + out + " already holds a model or an earlier run: pass --force "
                    + "to overwrite it, --resume to continue its run, or another --out");
        }
        Path saved = out.resolve(OPTIONS_FILE);
        if (resume && !Files.isDirectory(out.resolve("checkpoint")) && !Files.isDirectory(out.resolve("stage1"))
                && !Files.isRegularFile(saved) && holdsAModelOrARun(out)) {
            // a finished model (no stage directory or checkpoint left): --resume would retrain it from scratch
            throw new IllegalArgumentException("--resume: " + out + " holds a finished model and no run to continue "
                    + "(no stage1 or checkpoint): pass --force to retrain it, or another --out");
        }
        if (resume && !Files.isRegularFile(saved) && holdsAModelOrARun(out)) {
            System.err.println("note: " + out + " has no " + OPTIONS_FILE + " (a run from before it was saved): "
                    + "the options are not checked against that run's");
        }
        if (resume && Files.isRegularFile(saved)) {
            Map<String, String> before = new ObjectMapper().readValue(saved.toFile(),
                    new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, String>>() {});
            for (Map.Entry<String, String> e : trainingOptions.entrySet()) {
                String was = before.get(e.getKey());
                if (was != null && !was.equals(e.getValue()) && !RESUME_MAY_EXTEND.contains(e.getKey())) {
                    throw new IllegalArgumentException("--resume with " + e.getKey() + " " + e.getValue()
                            + ", but the run in " + out + " used " + was + ": resume with the same options");
                }
            }
        }
    }

    /**
     * Readies OUT for training, after {@link #checkOut}: with --force, removes an earlier run's intermediates, then
     * saves this run's options.
     */
    void prepare() throws java.io.IOException {
        if (force && !resume) {
            // an earlier run's checkpoints must not be resumed into this run's options later
            deleteTree(out.resolve("base"));
            deleteTree(out.resolve("stage1"));
            deleteTree(out.resolve("checkpoint"));
        }
        Files.createDirectories(out);
        saveOptions();
    }

    /** Leaves only the model: the base, stage 1 and the checkpoints go, and with them the saved options. */
    void removeIntermediates() throws java.io.IOException {
        deleteTree(out.resolve("base"));
        deleteTree(out.resolve("stage1"));
        deleteTree(out.resolve("checkpoint"));
        Files.deleteIfExists(out.resolve(OPTIONS_FILE)); // no checkpoint left to resume
    }

    /** A model's config or weights, or a stage directory or checkpoint of an earlier run. */
    private static boolean holdsAModelOrARun(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        for (String name : List.of("config.json", "model.safetensors", "base", "stage1", "checkpoint", OPTIONS_FILE)) {
            if (Files.exists(dir.resolve(name))) {
                return true;
            }
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
        }
    }

    /** Writes {@link #OPTIONS_FILE}; a resumed run keeps the file it was checked against. */
    private void saveOptions() throws java.io.IOException {
        Path saved = out.resolve(OPTIONS_FILE);
        if (resume && Files.isRegularFile(saved)) {
            return;
        }
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(saved.toFile(), trainingOptions);
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
