package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import static dev.qrexec.broker.wire.WireLimits.DOMAIN_NAME_SIZE;
import static dev.qrexec.broker.wire.WireLimits.HEADER_SIZE;
import static dev.qrexec.broker.wire.WireLimits.IDENT_SIZE;
import static dev.qrexec.broker.wire.WireLimits.V2_SERVICE_NAME_SIZE;

/**
 * Body layouts of every message (spec qrexec-wire.md 2.3): parsing a frame body into a message and
 * writing a message as a frame. All integers are little-endian uint32/int32.
 */
public final class WireFormat {

    private static final int EXEC_PARAMS_SIZE = 8;
    private static final int TRIGGER3_FIXED = DOMAIN_NAME_SIZE + IDENT_SIZE;
    private static final int TRIGGER4_FIXED = 2 * DOMAIN_NAME_SIZE + IDENT_SIZE;
    private static final int TRIGGER2_SIZE = V2_SERVICE_NAME_SIZE + DOMAIN_NAME_SIZE + IDENT_SIZE;

    private WireFormat() {
    }

    /**
     * Parses a frame body. Data bodies are returned as a retained slice; the caller keeps
     * ownership of {@code body}.
     *
     * @throws ProtocolViolationException if the body does not have the type's layout
     */
    public static QrexecMessage parse(MessageType type, ByteBuf body) {
        int len = body.readableBytes();
        int at = body.readerIndex();
        switch (type) {
            case DATA_STDIN:
            case DATA_STDOUT:
            case DATA_STDERR:
                return new DataFrame(type, body.retainedSlice());
            case DATA_EXIT_CODE:
                requireLength(type, len, 4);
                return new ExitCode(body.getIntLE(at));
            case HELLO:
                requireLength(type, len, 4);
                return new Hello(body.getIntLE(at));
            case CONNECTION_TERMINATED:
                requireLength(type, len, EXEC_PARAMS_SIZE);
                return new ConnectionTerminated(body.getIntLE(at), body.getIntLE(at + 4));
            case SERVICE_REFUSED:
                requireLength(type, len, IDENT_SIZE);
                return new ServiceRefused(ident(body, at));
            case SERVICE_CONNECT:
                if (len == EXEC_PARAMS_SIZE) {
                    return new ExecParamsReply(type, body.getIntLE(at), body.getIntLE(at + 4));
                }
                requireLength(type, len, EXEC_PARAMS_SIZE + IDENT_SIZE);
                return new ServiceConnect(body.getIntLE(at), body.getIntLE(at + 4), ident(body, at + 8));
            case EXEC_CMDLINE:
            case JUST_EXEC:
                return parseExec(type, body, at, len);
            case TRIGGER_SERVICE:
                requireLength(type, len, TRIGGER2_SIZE);
                String name = fixedString(body, at, V2_SERVICE_NAME_SIZE);
                return new Trigger(type, "", fixedString(body, at + V2_SERVICE_NAME_SIZE, DOMAIN_NAME_SIZE),
                        ident(body, at + V2_SERVICE_NAME_SIZE + DOMAIN_NAME_SIZE), name + '\0');
            case TRIGGER_SERVICE3:
                requireLongerThan(type, len, TRIGGER3_FIXED);
                return new Trigger(type, "", fixedString(body, at, DOMAIN_NAME_SIZE),
                        ident(body, at + DOMAIN_NAME_SIZE), tail(body, at + TRIGGER3_FIXED, len - TRIGGER3_FIXED));
            case TRIGGER_SERVICE4:
                requireLongerThan(type, len, TRIGGER4_FIXED);
                return new Trigger(type, fixedString(body, at, DOMAIN_NAME_SIZE),
                        fixedString(body, at + DOMAIN_NAME_SIZE, DOMAIN_NAME_SIZE),
                        ident(body, at + 2 * DOMAIN_NAME_SIZE), tail(body, at + TRIGGER4_FIXED, len - TRIGGER4_FIXED));
            default:
                throw new ProtocolViolationException("no layout for " + type);
        }
    }

    private static QrexecMessage parseExec(MessageType type, ByteBuf body, int at, int len) {
        if (len < EXEC_PARAMS_SIZE) {
            throw new ProtocolViolationException(type + " body of " + len + " bytes is shorter than exec_params");
        }
        int domain = body.getIntLE(at);
        int port = body.getIntLE(at + 4);
        if (len == EXEC_PARAMS_SIZE) {
            return new ExecParamsReply(type, domain, port);
        }
        int cmdLen = len - EXEC_PARAMS_SIZE - 1;
        if (body.getByte(at + len - 1) != 0) {
            throw new ProtocolViolationException(type + " command line is not NUL-terminated");
        }
        if (cmdLen == 0 || body.indexOf(at + EXEC_PARAMS_SIZE, at + EXEC_PARAMS_SIZE + cmdLen, (byte) 0) >= 0) {
            throw new ProtocolViolationException(type + " command line is empty or contains a NUL");
        }
        ByteBuffer bytes = body.nioBuffer(at + EXEC_PARAMS_SIZE, cmdLen);
        try {
            String cmd = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
            return new ExecCommand(type, domain, port, cmd);
        } catch (CharacterCodingException e) {
            throw new ProtocolViolationException(type + " command line is not valid UTF-8");
        }
    }

    private static void requireLength(MessageType type, int len, int expected) {
        if (len != expected) {
            throw new ProtocolViolationException(type + " body must be " + expected + " bytes, got " + len);
        }
    }

    private static void requireLongerThan(MessageType type, int len, int fixed) {
        // The C daemon exits on a body no longer than the fixed part (spec 4.1).
        if (len <= fixed) {
            throw new ProtocolViolationException(type + " body of " + len
                    + " bytes has no service name after its " + fixed + "-byte fixed part");
        }
        if (len - fixed - 1 > WireLimits.MAX_SERVICE_NAME_LEN) {
            throw new ProtocolViolationException(type + " service name of " + (len - fixed - 1)
                    + " bytes exceeds " + WireLimits.MAX_SERVICE_NAME_LEN);
        }
    }

    private static RequestId ident(ByteBuf body, int at) {
        byte[] raw = new byte[IDENT_SIZE];
        body.getBytes(at, raw);
        return RequestId.ofRaw(raw);
    }

    /** Bytes before the first NUL of a fixed field; its last byte counts as NUL, as in C. */
    private static String fixedString(ByteBuf body, int at, int size) {
        int end = body.indexOf(at, at + size - 1, (byte) 0);
        int n = (end < 0 ? size - 1 : end - at);
        return body.toString(at, n, StandardCharsets.ISO_8859_1);
    }

    private static String tail(ByteBuf body, int at, int n) {
        return body.toString(at, n, StandardCharsets.ISO_8859_1);
    }

    /**
     * Writes a non-data message as a whole frame (header and body).
     *
     * @throws IllegalArgumentException if a fixed-width field does not fit
     */
    public static ByteBuf encode(ByteBufAllocator alloc, QrexecMessage msg) {
        if (msg instanceof Hello h) {
            return header(alloc, msg.type(), 4).writeIntLE(h.version());
        } else if (msg instanceof ExitCode e) {
            return header(alloc, msg.type(), 4).writeIntLE(e.status());
        } else if (msg instanceof ConnectionTerminated t) {
            return header(alloc, msg.type(), 8).writeIntLE(t.connectDomain()).writeIntLE(t.connectPort());
        } else if (msg instanceof ExecParamsReply r) {
            return header(alloc, msg.type(), 8).writeIntLE(r.connectDomain()).writeIntLE(r.connectPort());
        } else if (msg instanceof ServiceRefused r) {
            return header(alloc, msg.type(), IDENT_SIZE).writeBytes(r.requestId().toBytes());
        } else if (msg instanceof ServiceConnect c) {
            return header(alloc, msg.type(), 8 + IDENT_SIZE).writeIntLE(c.connectDomain())
                    .writeIntLE(c.connectPort()).writeBytes(c.requestId().toBytes());
        } else if (msg instanceof ExecCommand c) {
            byte[] cmd = c.commandLine().getBytes(StandardCharsets.UTF_8);
            return header(alloc, msg.type(), 8 + cmd.length + 1).writeIntLE(c.connectDomain())
                    .writeIntLE(c.connectPort()).writeBytes(cmd).writeByte(0);
        } else if (msg instanceof Trigger t) {
            return encodeTrigger(alloc, t);
        }
        throw new IllegalArgumentException("data frames are written by the encoder, not here: " + msg);
    }

    private static ByteBuf encodeTrigger(ByteBufAllocator alloc, Trigger t) {
        byte[] service = t.serviceField().getBytes(StandardCharsets.ISO_8859_1);
        switch (t.type()) {
            case TRIGGER_SERVICE: {
                String name = t.serviceName();
                if (name == null) {
                    throw new IllegalArgumentException("version 2 trigger needs a well-formed service name");
                }
                ByteBuf buf = header(alloc, t.type(), TRIGGER2_SIZE);
                putFixed(buf, name, V2_SERVICE_NAME_SIZE);
                putFixed(buf, t.targetDomain(), DOMAIN_NAME_SIZE);
                return buf.writeBytes(t.requestId().toBytes());
            }
            case TRIGGER_SERVICE3: {
                ByteBuf buf = header(alloc, t.type(), TRIGGER3_FIXED + service.length);
                putFixed(buf, t.targetDomain(), DOMAIN_NAME_SIZE);
                return buf.writeBytes(t.requestId().toBytes()).writeBytes(service);
            }
            default: {
                ByteBuf buf = header(alloc, t.type(), TRIGGER4_FIXED + service.length);
                putFixed(buf, t.sourceDomain(), DOMAIN_NAME_SIZE);
                putFixed(buf, t.targetDomain(), DOMAIN_NAME_SIZE);
                return buf.writeBytes(t.requestId().toBytes()).writeBytes(service);
            }
        }
    }

    private static void putFixed(ByteBuf buf, String value, int size) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        if (bytes.length >= size) {
            throw new IllegalArgumentException("'" + value + "' does not fit a " + size + "-byte field");
        }
        buf.writeBytes(bytes).writeZero(size - bytes.length);
    }

    /** A buffer holding just a header, sized for its body. */
    public static ByteBuf header(ByteBufAllocator alloc, MessageType type, int bodyLength) {
        return alloc.buffer(HEADER_SIZE + bodyLength).writeIntLE(type.code()).writeIntLE(bodyLength);
    }
}
