package dev.qrexec.broker.wire;

/**
 * The qrexec message types (spec qrexec-wire.md 2.2). The numeric codes are the wire values of
 * the header's {@code type} field.
 */
public enum MessageType {
    DATA_STDIN(0x190),
    DATA_STDOUT(0x191),
    DATA_STDERR(0x192),
    DATA_EXIT_CODE(0x193),
    EXEC_CMDLINE(0x200),
    JUST_EXEC(0x201),
    SERVICE_CONNECT(0x202),
    SERVICE_REFUSED(0x203),
    TRIGGER_SERVICE(0x210),
    CONNECTION_TERMINATED(0x211),
    TRIGGER_SERVICE3(0x212),
    TRIGGER_SERVICE4(0x213),
    HELLO(0x300);

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    /** The value of the header's {@code type} field. */
    public int code() {
        return code;
    }

    /** True for the three byte-stream types (stdin, stdout, stderr). */
    public boolean isStream() {
        return this == DATA_STDIN || this == DATA_STDOUT || this == DATA_STDERR;
    }

    /** True for the trigger types of every protocol version. */
    public boolean isTrigger() {
        return this == TRIGGER_SERVICE || this == TRIGGER_SERVICE3 || this == TRIGGER_SERVICE4;
    }

    /** The type with this wire code, or {@code null} if no type has it. */
    public static MessageType fromCode(int code) {
        switch (code) {
            case 0x190: return DATA_STDIN;
            case 0x191: return DATA_STDOUT;
            case 0x192: return DATA_STDERR;
            case 0x193: return DATA_EXIT_CODE;
            case 0x200: return EXEC_CMDLINE;
            case 0x201: return JUST_EXEC;
            case 0x202: return SERVICE_CONNECT;
            case 0x203: return SERVICE_REFUSED;
            case 0x210: return TRIGGER_SERVICE;
            case 0x211: return CONNECTION_TERMINATED;
            case 0x212: return TRIGGER_SERVICE3;
            case 0x213: return TRIGGER_SERVICE4;
            case 0x300: return HELLO;
            default: return null;
        }
    }

    /** A readable name for a code, also for codes no type has (for logs). */
    public static String describe(int code) {
        MessageType t = fromCode(code);
        return t != null ? t.name() : String.format("unknown(0x%x)", code);
    }
}
