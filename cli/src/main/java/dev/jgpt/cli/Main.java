package dev.jgpt.cli;

import dev.jgpt.common.IoErrors;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@code jgpt} command: one subcommand per job. */
@Command(name = "jgpt",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A small, fast, pure-Java GPT: train, generate, evaluate and study residual layouts.")
public final class Main implements Runnable {

    /** The subcommands, in the order the usage lists them. */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            CommandLine.HelpCommand.class,
            SmokeCommand.class,
            StabilityCommand.class,
            LesionCommand.class,
            TokenizerCommand.class,
            PrepareCommand.class,
            EvalCommand.class,
            LandscapeCommand.class,
            GenerateCommand.class,
            ExportCommand.class,
            QuantizeCommand.class,
            ServeCommand.class,
            TrainCommand.class,
            AotTrainingCommand.class);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static final int EXIT_BAD_INPUT = 1, EXIT_USAGE = 2;

    /** The exit codes of every command, listed in each --help. */
    static final Map<String, String> EXIT_CODES = exitCodes();

    private static Map<String, String> exitCodes() {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put("0", "done");
        codes.put("1", "bad input or a failure: one line on stderr names the file or flag and the problem");
        codes.put("2", "usage: an unknown option, a missing one, or a value of the wrong type");
        codes.put("3", "training diverged (NaN or infinite loss); the last good checkpoint is kept");
        codes.put("130", "interrupted (Ctrl-C); jgpt train saves a checkpoint first, --resume continues "
                + "(jgpt serve drains its requests and exits with 0)");
        return codes;
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        System.setProperty("jgpt.cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        CommandLine cli = commandLine(args);
        listExitCodes(cli);
        cli.setExecutionExceptionHandler(Main::reportError);
        cli.setParameterExceptionHandler(Main::reportUsageError);
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            long heap = Runtime.getRuntime().maxMemory();
            return reportFatal(cli, "out of memory: the Java heap (" + (heap >= 1L << 30
                    ? String.format(Locale.ROOT, "%.1f GB", heap / (double) (1L << 30)) : (heap >> 20) + " MB")
                    + ") is full; choose a smaller model, batch or context, or give Java more memory "
                    + "(bin/jgpt: JGPT_JAVA_OPTS=-Xmx16g)", e);
        } catch (Error e) {
            return reportFatal(cli, "internal error: " + e + " (a bug: please report it with the command; "
                    + "JGPT_DEBUG=1 shows where)", e);
        }
    }

    /**
     * The command line for {@code args}: when the first argument names a subcommand (other than help), with that one
     * alone, else with all of them (help, the usage, suggestions for a mistyped name). Picocli builds each
     * subcommand's model from its annotations by reflection, a good part of the time before a command starts, which
     * {@code jgpt generate}'s first token waits for.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new Main());
        String first = args.length > 0 ? args[0] : null;
        boolean named = first != null && !first.equals(name(CommandLine.HelpCommand.class))
                && SUBCOMMANDS.stream().anyMatch(c -> name(c).equals(first));
        for (Class<?> c : SUBCOMMANDS) {
            if (!named || name(c).equals(first)) {
                cli.addSubcommand(c);
            }
        }
        return cli;
    }

    private static String name(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }

    private static void listExitCodes(CommandLine cli) {
        cli.getCommandSpec().usageMessage().exitCodeListHeading("Exit codes:%n").exitCodeList(EXIT_CODES);
        cli.getSubcommands().values().forEach(Main::listExitCodes);
    }

    @Override
    public void run() {
        commandLine().usage(System.out);
    }

    /** Bad input ends in one clear line on stderr and a non-zero exit, not a stack trace. */
    private static int reportError(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": error: " + describe(e));
        debug(cli, e);
        return EXIT_BAD_INPUT;
    }

    /** A mistake on the command line: one line, and where to look (the whole usage would bury it). */
    private static int reportUsageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        String name = cli.getCommandSpec().qualifiedName();
        cli.getErr().println(name + ": error: " + e.getMessage() + " (see: " + name + " --help)");
        debug(cli, e);
        return EXIT_USAGE;
    }

    /** An Error escaped the command (picocli only handles exceptions): one line too, never a stack trace. */
    private static int reportFatal(CommandLine root, String message, Throwable e) {
        CommandLine cli = root;
        for (CommandLine.ParseResult p = root.getParseResult(); p != null && p.subcommand() != null; ) {
            p = p.subcommand();
            cli = p.commandSpec().commandLine();
        }
        root.getOut().flush();
        cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": error: " + message);
        debug(cli, e);
        return EXIT_BAD_INPUT;
    }

    /** What went wrong, in words: file errors name the file and the reason, not just the path. */
    static String describe(Throwable e) {
        if (e instanceof IOException io) {
            return IoErrors.describe(io);
        }
        if (e instanceof UncheckedIOException u && u.getMessage() == null) {
            return IoErrors.describe(u.getCause());
        }
        if (e.getMessage() == null || e instanceof NullPointerException || e instanceof IndexOutOfBoundsException
                || e instanceof ClassCastException) {
            return "internal error: " + e + " (a bug: please report it with the command; JGPT_DEBUG=1 shows where)";
        }
        return e.getMessage();
    }

    private static void debug(CommandLine cli, Throwable e) {
        if (System.getenv("JGPT_DEBUG") != null) {
            e.printStackTrace(cli.getErr());
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jgpt 0.1.0 (Java " + Runtime.version() + ", "
                    + dev.jgpt.kernel.Simd.describe() + ")"};
        }
    }
}
