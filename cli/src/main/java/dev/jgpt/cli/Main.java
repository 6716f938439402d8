package dev.jgpt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jgpt} command: one subcommand per job. */
@Command(name = "jgpt",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A small, fast, pure-Java GPT: train, generate, evaluate and study residual layouts.",
        subcommands = {
                CommandLine.HelpCommand.class,
                SmokeCommand.class,
                StabilityCommand.class,
                LesionCommand.class,
                TokenizerCommand.class,
                PrepareCommand.class,
                EvalCommand.class,
                GenerateCommand.class,
                ServeCommand.class,
                TrainCommand.class,
        })
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::reportError);
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Bad input ends in one clear line on stderr and a non-zero exit, not a stack trace. */
    private static int reportError(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        String message = e.getMessage() != null ? e.getMessage() : e.toString();
        cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": error: " + message);
        if (System.getenv("JGPT_DEBUG") != null) {
            e.printStackTrace(cli.getErr());
        }
        return 1;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jgpt 0.1.0 (Java " + Runtime.version() + ", "
                    + dev.jgpt.kernel.Simd.describe() + ")"};
        }
    }
}
