package dev.jgpt.model.io.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One GGUF metadata value with its GGUF type, so a file read and written again keeps every type.
 * Scalars hold: UINT8, INT8, UINT16, INT16, INT32 → Integer; UINT32 → Long (the unsigned value);
 * UINT64 → Long (the 64 bits; values above 2⁶³ − 1 read as negative); INT64 → Long; FLOAT32 → Float;
 * FLOAT64 → Double; BOOL → Boolean; STRING → String. Arrays hold a Java array per element type:
 * byte[] (UINT8, INT8), short[] (UINT16, INT16), int[] (UINT32, INT32), long[] (UINT64, INT64),
 * float[], double[], boolean[], String[], or GgufValue[] of arrays (nested arrays). Values are
 * immutable: array accessors return copies.
 */
public final class GgufValue {
    private final GgufType type;
    private final GgufType elementType;
    private final Object value;

    private GgufValue(GgufType type, GgufType elementType, Object value) {
        this.type = type;
        this.elementType = elementType;
        this.value = value;
    }

    public static GgufValue uint8(int v) {
        return new GgufValue(GgufType.UINT8, null, checkRange(v, 0, 255, "uint8"));
    }

    public static GgufValue int8(int v) {
        return new GgufValue(GgufType.INT8, null, checkRange(v, -128, 127, "int8"));
    }

    public static GgufValue uint16(int v) {
        return new GgufValue(GgufType.UINT16, null, checkRange(v, 0, 65535, "uint16"));
    }

    public static GgufValue int16(int v) {
        return new GgufValue(GgufType.INT16, null, checkRange(v, -32768, 32767, "int16"));
    }

    public static GgufValue uint32(long v) {
        if (v < 0 || v > 0xffffffffL) {
            throw new IllegalArgumentException("uint32 out of range: " + v);
        }
        return new GgufValue(GgufType.UINT32, null, v);
    }

    public static GgufValue int32(int v) {
        return new GgufValue(GgufType.INT32, null, v);
    }

    /** A uint64 given by its 64 bits (use {@link Long#parseUnsignedLong} for values above 2⁶³ − 1). */
    public static GgufValue uint64(long bits) {
        return new GgufValue(GgufType.UINT64, null, bits);
    }

    public static GgufValue int64(long v) {
        return new GgufValue(GgufType.INT64, null, v);
    }

    public static GgufValue float32(float v) {
        return new GgufValue(GgufType.FLOAT32, null, v);
    }

    public static GgufValue float64(double v) {
        return new GgufValue(GgufType.FLOAT64, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufType.BOOL, null, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufType.STRING, null, Objects.requireNonNull(v, "string value"));
    }

    /** An array of elementType; {@code elements} is the Java array the class comment lists for it (copied). */
    public static GgufValue array(GgufType elementType, Object elements) {
        Class<?> want = switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufValue[].class;
        };
        if (elements == null || elements.getClass() != want) {
            throw new IllegalArgumentException("an array of " + elementType + " needs a " + want.getSimpleName()
                    + ", got " + (elements == null ? "null" : elements.getClass().getSimpleName()));
        }
        Object copy = copyOf(elements);
        if (copy instanceof String[] s) {
            for (String e : s) {
                Objects.requireNonNull(e, "string array element");
            }
        } else if (copy instanceof GgufValue[] a) {
            for (GgufValue e : a) {
                if (e == null || e.type != GgufType.ARRAY) {
                    throw new IllegalArgumentException("an array of arrays holds arrays, got " + e);
                }
            }
        }
        return new GgufValue(GgufType.ARRAY, elementType, copy);
    }

    public static GgufValue strings(String... v) {
        return array(GgufType.STRING, v);
    }

    public static GgufValue int32s(int... v) {
        return array(GgufType.INT32, v);
    }

    public static GgufValue float32s(float... v) {
        return array(GgufType.FLOAT32, v);
    }

    public static GgufValue arrays(GgufValue... v) {
        return array(GgufType.ARRAY, v);
    }

    /** Wraps an array the reader built (no copy). */
    static GgufValue ownedArray(GgufType elementType, Object elements) {
        return new GgufValue(GgufType.ARRAY, elementType, elements);
    }

    static GgufValue scalar(GgufType type, Object v) {
        return new GgufValue(type, null, v);
    }

    public GgufType type() {
        return type;
    }

    /** The element type of an array, null for a scalar. */
    public GgufType elementType() {
        return elementType;
    }

    /** The number of elements of an array. */
    public int length() {
        return java.lang.reflect.Array.getLength(arrayValue());
    }

    public String asString() {
        if (type != GgufType.STRING) {
            throw wrongType("a string");
        }
        return (String) value;
    }

    /** Any integer scalar as a long (UINT64: its 64 bits). */
    public long asLong() {
        if (!type.isInteger()) {
            throw wrongType("an integer");
        }
        return ((Number) value).longValue();
    }

    /** Any integer scalar that fits in an int. */
    public int asInt() {
        long v = asLong();
        if (v != (int) v || (type == GgufType.UINT64 && v < 0)) {
            throw new IllegalArgumentException(describe() + " does not fit in an int");
        }
        return (int) v;
    }

    /** A float or integer scalar as a double. */
    public double asDouble() {
        if (type == GgufType.FLOAT32 || type == GgufType.FLOAT64 || (type.isInteger() && type != GgufType.UINT64)) {
            return ((Number) value).doubleValue();
        }
        throw wrongType("a number");
    }

    public boolean asBoolean() {
        if (type != GgufType.BOOL) {
            throw wrongType("a boolean");
        }
        return (Boolean) value;
    }

    public String[] asStrings() {
        return (String[]) elements(GgufType.STRING);
    }

    public float[] asFloats() {
        return (float[]) elements(GgufType.FLOAT32);
    }

    /** An array of 8-, 16- or 32-bit integers as ints (UINT32 values above 2³¹ − 1 are refused). */
    public int[] asInts() {
        Object a = arrayValue();
        int n = length();
        int[] out = new int[n];
        switch (elementType) {
            case UINT8 -> { for (int i = 0; i < n; i++) out[i] = ((byte[]) a)[i] & 0xff; }
            case INT8 -> { for (int i = 0; i < n; i++) out[i] = ((byte[]) a)[i]; }
            case UINT16 -> { for (int i = 0; i < n; i++) out[i] = ((short[]) a)[i] & 0xffff; }
            case INT16 -> { for (int i = 0; i < n; i++) out[i] = ((short[]) a)[i]; }
            case INT32 -> System.arraycopy(a, 0, out, 0, n);
            case UINT32 -> {
                for (int i = 0; i < n; i++) {
                    if ((out[i] = ((int[]) a)[i]) < 0) {
                        throw new IllegalArgumentException(describe() + ": element " + i + " does not fit in an int");
                    }
                }
            }
            default -> throw wrongType("an array of integers");
        }
        return out;
    }

    public GgufValue[] asArrays() {
        return (GgufValue[]) elements(GgufType.ARRAY);
    }

    /** The Java value (for arrays the internal array: do not modify). */
    Object raw() {
        return value;
    }

    private Object elements(GgufType want) {
        if (elementType != want) {
            throw wrongType("an array of " + want);
        }
        return copyOf(value);
    }

    private Object arrayValue() {
        if (type != GgufType.ARRAY) {
            throw wrongType("an array");
        }
        return value;
    }

    private IllegalArgumentException wrongType(String want) {
        return new IllegalArgumentException("value is " + describe() + ", not " + want);
    }

    private String describe() {
        return type == GgufType.ARRAY ? "an array of " + length() + " " + elementType : type + " " + value;
    }

    private static int checkRange(int v, int lo, int hi, String what) {
        if (v < lo || v > hi) {
            throw new IllegalArgumentException(what + " out of range: " + v);
        }
        return v;
    }

    private static Object copyOf(Object a) {
        return switch (a) {
            case byte[] b -> b.clone();
            case short[] s -> s.clone();
            case int[] i -> i.clone();
            case long[] l -> l.clone();
            case float[] f -> f.clone();
            case double[] d -> d.clone();
            case boolean[] z -> z.clone();
            case String[] s -> s.clone();
            case GgufValue[] v -> v.clone();
            default -> throw new IllegalArgumentException("not an array: " + a);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && type == v.type && elementType == v.elementType
                && Objects.deepEquals(new Object[] {value}, new Object[] {v.value});
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, Arrays.deepHashCode(new Object[] {value}));
    }

    @Override
    public String toString() {
        if (type != GgufType.ARRAY) {
            return type == GgufType.STRING ? '"' + (String) value + '"' : String.valueOf(value);
        }
        return elementType + "[" + length() + "]";
    }
}
