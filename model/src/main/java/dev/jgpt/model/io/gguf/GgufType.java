package dev.jgpt.model.io.gguf;

/** The metadata value types of GGUF (enum gguf_metadata_value_type), with their sizes in bytes. */
public enum GgufType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    /** uint64 length, then that many bytes of UTF-8. */
    STRING(8, 8),
    /** uint32 element type, uint64 count, then the elements (arrays may nest). */
    ARRAY(9, 12),
    UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** The exact size of a scalar; for strings and arrays the size of their headers, the least they take. */
    final int minBytes;

    GgufType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    static GgufType of(long id) {
        for (GgufType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }
}
