package dev.jgpt.common;

/** Whether progress bars belong on stderr. */
public final class Terminal {
    private Terminal() {}

    /**
     * True when stderr is a terminal: a bar redrawn with carriage returns would litter a log file.
     * {@code bin/jgpt} tells (property {@code jgpt.stderr.tty}); without it, the console stands in.
     */
    public static boolean stderrIsTerminal() {
        String launcher = System.getProperty("jgpt.stderr.tty");
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
