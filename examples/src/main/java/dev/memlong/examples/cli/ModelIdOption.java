package dev.memlong.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Which model's versions: {@code --model-id ID}, or {@code --model DIR} whose directory name is the id (what
 * {@code memlong.actors.model-id = auto} stores conversations and versions under).
 */
final class ModelIdOption {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    static final class Choice {
        @Option(names = "--model-id", paramLabel = "ID", description = "the model id versions are stored under")
        String id;

        @Option(names = "--model", paramLabel = "DIR",
                description = "the served model directory (its name is the model id)")
        Path dir;
    }

    String modelId() {
        return choice.id != null ? choice.id
                : String.valueOf(choice.dir.toAbsolutePath().normalize().getFileName());
    }
}
