package dev.memlong.examples.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code memlong} command line. Every command prints JSON on stdout and, on bad input, exits non-zero with
 * a one-line error on stderr.
 */
@Command(name = "memlong", mixinStandardHelpOptions = true, version = "memlong 0.1.0",
        description = "MemLong Runtime: LLaMA-family models with long-term memory, on the JVM.",
        subcommands = {
            TokenizeCommand.class,
            LogitsCommand.class,
            GenerateCommand.class,
            PerplexityCommand.class,
            ChatTemplateCommand.class,
            ConvertCommand.class,
            MainCommand.class,
            BenchCommand.class,
            HistoryCommand.class,
            MemoryCommand.class,
            ForgetCommand.class,
            ExportCommand.class,
            ImportCommand.class,
            ChatCommand.class,
            TrainCommand.class,
            TrainDemoCommand.class,
            VersionsCommand.class,
            RollbackCommand.class
        })
public final class MemLongCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new MemLongCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("error: " + oneLine(e));
            return 1;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("error: " + oneLine(e) + " (see memlong "
                    + e.getCommandLine().getCommandName() + " --help)");
            return 2;
        });
        return cli.execute(args);
    }

    private static String oneLine(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return msg.replace('\n', ' ');
    }
}
