package dev.jgpt.infer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.filter.ListFilter;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.ExpressionFactory;

import java.beans.FeatureDescriptor;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * What Hugging Face's {@code apply_chat_template} gives templates beyond Jinja, and the Python
 * that real chat templates call which Jinjava (a Java Jinja) does not have:
 *
 * <ul>
 *   <li>{@code raise_exception(message)}: ends rendering with that message;</li>
 *   <li>{@code strftime_now(format)}: the current time in Python's strftime format;</li>
 *   <li>the {@code tojson} filter as {@code transformers} defines it: Python's {@code json.dumps}
 *       (keys in order, {@code ", "} and {@code ": "} separators, non-ASCII kept, {@code indent});</li>
 *   <li>Python's {@code list(dict)}, the keys (Jinjava's {@code list} wraps the dict in a list), and
 *       Jinja 3.1's {@code items} filter;</li>
 *   <li>Python's string methods ({@code .strip()}, {@code .startswith()}, {@code .split()}, ...),
 *       with Python's semantics: Jinjava would otherwise call Java's, where {@code split} takes a
 *       regex and {@code startswith} does not exist;</li>
 *   <li>Python's precedence of {@code not}, below comparisons: {@code not x == 1} is
 *       {@code not (x == 1)}, where Jinjava's expression language reads {@code (not x) == 1};</li>
 *   <li>Python's text of booleans, {@code True} and {@code False}, in output and with {@code ~}.</li>
 * </ul>
 */
final class JinjaPython {
    private JinjaPython() {
    }

    /** Jinjava whose expressions parse {@code not} as Python does. */
    static final class PythonJinjava extends Jinjava {
        private final ExpressionFactory expressions;

        PythonJinjava(JinjavaConfig config) {
            super(config);
            Properties properties = new Properties();   // as Jinjava's own, with the syntax below
            properties.setProperty(TreeBuilder.class.getName(), PythonSyntax.class.getName());
            this.expressions = new ExpressionFactoryImpl(properties, new TruthyTypeConverter() {
                @Override
                protected String coerceToString(Object value) {   // what `~` makes of its operands
                    return value instanceof Boolean b ? python(b) : super.coerceToString(value);
                }
            });
        }

        /** For {@link JinjavaConfig.Builder#withInterperterFactory}: interpreters that print booleans as Python does. */
        static final InterpreterFactory INTERPRETERS = new InterpreterFactory() {
            @Override
            public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
                return new PythonInterpreter(orig);
            }

            @Override
            public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
                return new PythonInterpreter(application, context, config);
            }
        };

        private static String python(boolean b) {
            return b ? "True" : "False";
        }

        private static final class PythonInterpreter extends JinjavaInterpreter {
            PythonInterpreter(Jinjava application, Context context, JinjavaConfig config) {
                super(application, context, config);
            }

            PythonInterpreter(JinjavaInterpreter orig) {
                super(orig);
            }

            @Override
            public String getAsString(Object object) {   // what {{ x }} prints
                return object instanceof Boolean b ? python(b) : super.getAsString(object);
            }
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    /** Jinjava's syntax (filters, tests, {@code in}, ...) with Python's {@code not}. */
    public static final class PythonSyntax extends ExtendedSyntaxBuilder {
        public PythonSyntax(Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new ExtendedParser(this, expression) {
                @Override
                protected AstNode unary(boolean required) throws Scanner.ScanException, ParseException {
                    if (getToken().getSymbol() == Scanner.Symbol.NOT) {
                        consumeToken();
                        return createAstUnary(eq(true), AstUnary.NOT);   // the operand is a whole comparison
                    }
                    return super.unary(required);
                }
            };
        }
    }

    /** What a template raised with {@code raise_exception}; JinjaChatTemplate turns it into one error line. */
    static final class RaisedException extends RuntimeException {
        RaisedException(String message) {
            super(message);
        }
    }

    /** {@code raise_exception(message)}. */
    static Object raiseException(Object message) {
        throw new RaisedException(String.valueOf(message));
    }

    /** {@code strftime_now(format)}, on the clock and time zone the template was built with. */
    static String strftimeNow(String format) {
        var config = JinjavaInterpreter.getCurrent().getConfig();
        ZonedDateTime now = Instant.ofEpochMilli(config.getDateTimeProvider().getCurrentTimeMillis())
                .atZone(config.getTimeZone());
        return StrftimeFormatter.format(now, format, Locale.ENGLISH);
    }

    /** {@code tojson}, {@code tojson(indent=N)}: Python's {@code json.dumps(x, ensure_ascii=False, indent=N)}. */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            StringBuilder out = new StringBuilder();
            json(var, indent == null ? -1 : ((Number) indent).intValue(), 0, out);
            return out.toString();
        }
    }

    /** {@code list}: a dict's keys, as Python's {@code list(d)}; anything else as Jinjava's {@code list}. */
    static final class ListOf extends ListFilter {
        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var instanceof Map<?, ?> map ? new ArrayList<>(map.keySet()) : super.filter(var, interpreter, args);
        }
    }

    /** {@code items} (Jinja 3.1): a dict's (key, value) pairs, for {@code {% for k, v in d|items %}}. */
    static final class Items implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var == null) {
                return List.of();
            }
            if (!(var instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("items: not a dict: " + var);
            }
            return new ArrayList<>(map.entrySet());
        }
    }

    /** Appends {@code v} as Python's json.dumps writes it; {@code indent} −1 is None (one line). */
    static void json(Object v, int indent, int depth, StringBuilder out) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            out.append(d == Math.rint(d) && Math.abs(d) < 1e16 ? String.format(Locale.ROOT, "%.1f", d) : Double.toString(d));
        } else if (v instanceof Number n) {
            out.append(n);
        } else if (v instanceof Map<?, ?> map) {
            Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
            container('{', '}', map.isEmpty(), indent, depth, out, () -> {
                Map.Entry<?, ?> e = it.next();
                quote(String.valueOf(e.getKey()), out);
                out.append(": ");
                json(e.getValue(), indent, depth + 1, out);
                return it.hasNext();
            });
        } else if (v instanceof Collection<?> list) {
            Iterator<?> it = list.iterator();
            container('[', ']', list.isEmpty(), indent, depth, out, () -> {
                json(it.next(), indent, depth + 1, out);
                return it.hasNext();
            });
        } else {
            quote(v.toString(), out);
        }
    }

    private interface Item {
        /** Writes the next item; true if another follows. */
        boolean write();
    }

    private static void container(char open, char close, boolean empty, int indent, int depth, StringBuilder out, Item items) {
        out.append(open);
        if (!empty) {
            boolean more = true;
            while (more) {
                if (indent >= 0) {
                    out.append('\n').append(" ".repeat(indent * (depth + 1)));
                }
                more = items.write();
                if (more) {
                    out.append(indent >= 0 ? "," : ", ");
                }
            }
            if (indent >= 0) {
                out.append('\n').append(" ".repeat(indent * depth));
            }
        }
        out.append(close);
    }

    private static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /**
     * Resolves method calls on strings to Python's string methods; anything else is left to
     * Jinjava's own resolvers (placed after this one).
     */
    static final class StringMethods extends ELResolver {
        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            if (!(base instanceof String s) || method == null) {
                return null;
            }
            Object[] p = params == null ? new Object[0] : params;
            Object result;
            try {
                result = call(s, method.toString(), p);
            } catch (ClassCastException | IndexOutOfBoundsException e) {
                throw new IllegalArgumentException("str." + method + ": bad arguments " + List.of(p));
            }
            if (result != NOT_PYTHON) {
                context.setPropertyResolved(true);
            }
            return result == NOT_PYTHON ? null : result;
        }

        private static final Object NOT_PYTHON = new Object();

        private static Object call(String s, String method, Object[] p) {
            return switch (method) {
                case "strip" -> rstrip(lstrip(s, chars(p)), chars(p));
                case "lstrip" -> lstrip(s, chars(p));
                case "rstrip" -> rstrip(s, chars(p));
                case "startswith" -> anyOf(p[0], s::startsWith);
                case "endswith" -> anyOf(p[0], s::endsWith);
                case "split" -> split(s, p.length > 0 ? (String) p[0] : null, p.length > 1 ? ((Number) p[1]).intValue() : -1);
                case "splitlines" -> s.lines().toList();
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                case "replace" -> replace(s, (String) p[0], (String) p[1], p.length > 2 ? ((Number) p[2]).intValue() : -1);
                case "find" -> (long) s.indexOf((String) p[0]);
                case "count" -> count(s, (String) p[0]);
                case "join" -> join(s, p[0]);
                case "isspace" -> !s.isEmpty() && s.isBlank();
                case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
                default -> NOT_PYTHON;
            };
        }

        /** The characters to strip: Python's whitespace when none (or None) are given. */
        private static String chars(Object[] p) {
            return p.length > 0 && p[0] != null ? (String) p[0] : null;
        }

        private static boolean strippable(char c, String chars) {
            return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
        }

        private static String lstrip(String s, String chars) {
            int i = 0;
            while (i < s.length() && strippable(s.charAt(i), chars)) {
                i++;
            }
            return s.substring(i);
        }

        private static String rstrip(String s, String chars) {
            int j = s.length();
            while (j > 0 && strippable(s.charAt(j - 1), chars)) {
                j--;
            }
            return s.substring(0, j);
        }

        /** {@code startswith(x)} / {@code endswith(x)}: x a string or a tuple (list) of strings. */
        private static boolean anyOf(Object arg, java.util.function.Predicate<String> test) {
            if (arg instanceof Collection<?> options) {
                return options.stream().anyMatch(o -> test.test((String) o));
            }
            return test.test((String) arg);
        }

        /** Python's str.split: on runs of whitespace (dropping empty ends) without a separator, else on the literal separator. */
        private static List<String> split(String s, String sep, int maxSplit) {
            List<String> parts = new ArrayList<>();
            if (sep == null) {
                int i = 0;
                while (true) {
                    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                        i++;
                    }
                    if (i == s.length()) {
                        return parts;
                    }
                    if (maxSplit >= 0 && parts.size() == maxSplit) {
                        parts.add(s.substring(i));
                        return parts;
                    }
                    int j = i;
                    while (j < s.length() && !Character.isWhitespace(s.charAt(j))) {
                        j++;
                    }
                    parts.add(s.substring(i, j));
                    i = j;
                }
            }
            if (sep.isEmpty()) {
                throw new IllegalArgumentException("str.split: empty separator");
            }
            int start = 0;
            for (int at; (maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, start)) >= 0; start = at + sep.length()) {
                parts.add(s.substring(start, at));
            }
            parts.add(s.substring(start));
            return parts;
        }

        private static String title(String s) {
            StringBuilder sb = new StringBuilder(s.length());
            boolean previousCased = false;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                sb.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
                previousCased = Character.isLetter(c);
            }
            return sb.toString();
        }

        /** Python's str.replace(old, new, count): the first {@code count} occurrences (all if negative). */
        private static String replace(String s, String old, String with, int count) {
            if (count < 0 || old.isEmpty()) {
                return s.replace(old, with);   // an empty old with a count: not worth Python's special case
            }
            StringBuilder sb = new StringBuilder();
            int start = 0;
            for (int n = 0, at; n < count && (at = s.indexOf(old, start)) >= 0; n++) {
                sb.append(s, start, at).append(with);
                start = at + old.length();
            }
            return sb.append(s, start, s.length()).toString();
        }

        private static long count(String s, String sub) {
            if (sub.isEmpty()) {
                return s.length() + 1L;
            }
            long n = 0;
            for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
                n++;
            }
            return n;
        }

        private static String join(String separator, Object items) {
            List<String> parts = new ArrayList<>();
            for (Object o : (Iterable<?>) items) {
                parts.add(String.valueOf(o));
            }
            return String.join(separator, parts);
        }

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return true;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return null;
        }
    }
}
