package dev.jgpt.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/** A model switch: an enum whose values have the names used in config.json and on the command line. */
public interface Switch {
    String id();

    /** The value of {@code type} named {@code s} (its id or enum name, any case), or one error listing the choices. */
    static <E extends Enum<E> & Switch> E parse(Class<E> type, String what, String s) {
        for (E e : type.getEnumConstants()) {
            if (e.id().equalsIgnoreCase(s) || e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + s + "'; expected one of "
                + Arrays.stream(type.getEnumConstants()).map(Switch::id).collect(Collectors.joining(", ")));
    }
}
