package dev.jgpt.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Handles Ctrl-C (SIGINT) while open, instead of the JVM's immediate exit. Java's only way to catch
 * a signal is {@code sun.misc.Signal} (module jdk.unsupported, kept for exactly this use); it is called
 * reflectively so that javac does not warn about internal API on every build. Where it is missing,
 * Ctrl-C keeps its default behaviour.
 */
final class CtrlC implements AutoCloseable {
    private final Object signal;
    private final Object previous;

    CtrlC(Runnable onInterrupt) {
        Object sig = null, prev = null;
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            sig = signalClass.getConstructor(String.class).newInstance("INT");
            InvocationHandler call = (proxy, method, args) -> switch (method.getName()) {
                case "handle" -> {
                    onInterrupt.run();
                    yield null;
                }
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> "Ctrl-C handler";
            };
            Object handler = Proxy.newProxyInstance(CtrlC.class.getClassLoader(), new Class<?>[] {handlerClass}, call);
            prev = handle(sig, handler);
        } catch (ReflectiveOperationException | IllegalArgumentException | LinkageError unavailable) {
            sig = null;
        }
        this.signal = sig;
        this.previous = prev;
    }

    private static Object handle(Object signal, Object handler) throws ReflectiveOperationException {
        Class<?> signalClass = Class.forName("sun.misc.Signal");
        Method handle = signalClass.getMethod("handle", signalClass, Class.forName("sun.misc.SignalHandler"));
        return handle.invoke(null, signal, handler);
    }

    /** Gives Ctrl-C back to the handler that was there before. */
    @Override
    public void close() {
        if (signal != null && previous != null) {
            try {
                handle(signal, previous);
            } catch (ReflectiveOperationException ignored) {
                // it was installed the same way a moment ago
            }
        }
    }
}
