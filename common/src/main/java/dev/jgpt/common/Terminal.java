package dev.jgpt.common;

/** Whether progress bars belong on stdout or stderr. */
public final class Terminal {
    private Terminal() {}

    /**
     * True when stderr is a terminal: a bar redrawn with carriage returns would litter a log file.
     * {@code bin/jgpt} tells (property {@code jgpt.stderr.tty}); without it, the console stands in.
     */
    public static boolean stderrIsTerminal() {
        return isTerminal("jgpt.stderr.tty");
    }

    /** True when stdout is a terminal ({@code bin/jgpt} tells with {@code jgpt.stdout.tty}; else the console). */
    public static boolean stdoutIsTerminal() {
        return isTerminal("jgpt.stdout.tty");
    }

    private static boolean isTerminal(String launcherProperty) {
        String launcher = System.getProperty(launcherProperty);
        if (launcher != null) {
            return Boolean.parseBoolean(launcher);
        }
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try { // JDK 22+ returns a console even when redirected; isTerminal() (not in 21's API) tells
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: console() is null unless interactive
        }
    }
}
