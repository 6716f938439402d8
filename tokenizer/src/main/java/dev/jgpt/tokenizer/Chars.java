package dev.jgpt.tokenizer;

/** Readable names for characters in error messages. */
final class Chars {
    private Chars() {
    }

    /** {@code 'é' (U+00E9)}, or just {@code U+000A (line feed)} for invisible characters. */
    static String describe(int codePoint) {
        String hex = String.format("U+%04X", codePoint);
        if (Character.isISOControl(codePoint) || Character.isWhitespace(codePoint)
                || Character.getType(codePoint) == Character.FORMAT
                || Character.getType(codePoint) == Character.SURROGATE
                || !Character.isDefined(codePoint)) {
            String name = Character.getName(codePoint);
            return name == null ? hex : hex + " (" + name.toLowerCase(java.util.Locale.ROOT) + ")";
        }
        return "'" + Character.toString(codePoint) + "' (" + hex + ")";
    }

    /** The string in double quotes, with control characters escaped and cut at 40 characters. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            if (n++ == 40) {
                sb.append("...");
                break;
            }
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
