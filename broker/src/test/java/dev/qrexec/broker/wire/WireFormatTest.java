package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static dev.qrexec.broker.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class WireFormatTest {

    private static QrexecMessage parseFrame(ByteBuf frame) {
        try {
            int type = frame.readIntLE();
            int len = frame.readIntLE();
            assertEquals(len, frame.readableBytes(), "test frame length");
            return WireFormat.parse(MessageType.fromCode(type), frame);
        } finally {
            frame.release();
        }
    }

    private static byte[] encode(QrexecMessage m) {
        return bytes(WireFormat.encode(ByteBufAllocator.DEFAULT, m));
    }

    @Test
    void trigger4FromAppendixAParsesAndReencodesIdentically() {
        // vm46 agent->daemon TRIGGER_SERVICE4 len=173: [64 x 00]["vm47"+60 x 00]["SOCKET13"+24 x 00]"test.Echo+a1\0"
        byte[] body = concat(new byte[64], fixed("vm47", 64), fixed("SOCKET13", 32), cstr("test.Echo+a1"));
        assertEquals(173, body.length);
        Trigger t = (Trigger) parseFrame(frame(MessageType.TRIGGER_SERVICE4, body));
        assertEquals("", t.sourceDomain());
        assertEquals("vm47", t.targetDomain());
        assertEquals(RequestId.of("SOCKET13"), t.requestId());
        assertEquals("test.Echo+a1", t.serviceName());
        assertArrayEquals(bytes(frame(MessageType.TRIGGER_SERVICE4, body)), encode(t));
    }

    @Test
    void execCmdlineFromAppendixA() {
        byte[] expected = bytes(frame(MessageType.EXEC_CMDLINE,
                concat(le(0x2e, 0x201), cstr("root:QUBESRPC test.Echo+a1 vm46"))));
        assertEquals(8 + 40, expected.length);
        ExecCommand cmd = ExecCommand.exec(0x2e, 0x201, "root:QUBESRPC test.Echo+a1 vm46");
        assertArrayEquals(expected, encode(cmd));
        assertEquals(cmd, parseFrame(Unpooled.wrappedBuffer(expected)));
    }

    @Test
    void serviceConnectFromAppendixAIsFortyBytes() {
        byte[] expected = bytes(frame(MessageType.SERVICE_CONNECT, concat(le(0x2f, 0x201), fixed("SOCKET13", 32))));
        ServiceConnect sc = new ServiceConnect(0x2f, 0x201, RequestId.of("SOCKET13"));
        assertArrayEquals(expected, encode(sc));
        assertEquals(sc, parseFrame(Unpooled.wrappedBuffer(expected)));
    }

    @Test
    void roundTripsOfFixedLayoutMessages() {
        QrexecMessage[] all = {
            new Hello(4), new ExitCode(-1), new ExitCode(7), new ConnectionTerminated(47, 513),
            new ServiceRefused(RequestId.of("SOCKET13")),
            new ExecParamsReply(MessageType.EXEC_CMDLINE, 42, 514),
            new ExecParamsReply(MessageType.SERVICE_CONNECT, 42, 515),
            ExecCommand.justExec(0, 513, "user:sleep 5"),
            Trigger.v3("dom0", RequestId.of("SOCKET7"), "qubes.OpenURL"),
            Trigger.v2("vm2", RequestId.of("SOCKET9"), "test.Svc+arg"),
            Trigger.v4("relayed-src", "@dispvm:tpl", RequestId.of("SOCKET13"), "x"),
        };
        for (QrexecMessage m : all) {
            assertEquals(m, parseFrame(Unpooled.wrappedBuffer(encode(m))), m.toString());
        }
    }

    @Test
    void trigger2HasFixedFieldsOnly() {
        byte[] body = concat(fixed("test.Svc", 64), fixed("vm2", 64), fixed("SOCKET1", 32));
        Trigger t = (Trigger) parseFrame(frame(MessageType.TRIGGER_SERVICE, body));
        assertEquals("test.Svc", t.serviceName());
        assertEquals("vm2", t.targetDomain());
        assertThrows(ProtocolViolationException.class,
                () -> parseFrame(frame(MessageType.TRIGGER_SERVICE, concat(body, new byte[1]))));
    }

    @Test
    void fixedFieldWithoutNulLosesItsLastByteAsInC() {
        byte[] target = new byte[64];
        java.util.Arrays.fill(target, (byte) 'a');
        byte[] body = concat(target, fixed("SOCKET1", 32), cstr("svc"));
        Trigger t = (Trigger) parseFrame(frame(MessageType.TRIGGER_SERVICE3, body));
        assertEquals(63, t.targetDomain().length());
    }

    @Test
    void badServiceFieldsAreKeptForTheDaemonToRefuse() {
        // An embedded NUL or a missing terminator is not a framing error: the daemon answers
        // SERVICE_REFUSED (spec 4.1), so the decoder must hand the request over.
        byte[] embedded = concat(new byte[64], fixed("vm2", 64), fixed("SOCKET1", 32), cstr("a\0b"));
        assertNull(((Trigger) parseFrame(frame(MessageType.TRIGGER_SERVICE4, embedded))).serviceName());
        byte[] unterminated = concat(new byte[64], fixed("vm2", 64), fixed("SOCKET1", 32), new byte[] {'a'});
        assertNull(((Trigger) parseFrame(frame(MessageType.TRIGGER_SERVICE4, unterminated))).serviceName());
    }

    @Test
    void triggerWithNothingAfterTheFixedPartIsAViolation() {
        byte[] body = concat(new byte[64], fixed("vm2", 64), fixed("SOCKET1", 32));
        ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
                () -> parseFrame(frame(MessageType.TRIGGER_SERVICE4, body)));
        assertTrue(e.getMessage().contains("no service name"), e.getMessage());
    }

    @Test
    void wrongLengthsAreViolations() {
        assertThrows(ProtocolViolationException.class, () -> parseFrame(frame(MessageType.HELLO, le(4, 4))));
        assertThrows(ProtocolViolationException.class, () -> parseFrame(frame(MessageType.DATA_EXIT_CODE, new byte[3])));
        assertThrows(ProtocolViolationException.class, () -> parseFrame(frame(MessageType.CONNECTION_TERMINATED, le(1))));
        assertThrows(ProtocolViolationException.class, () -> parseFrame(frame(MessageType.SERVICE_REFUSED, new byte[31])));
        assertThrows(ProtocolViolationException.class, () -> parseFrame(frame(MessageType.SERVICE_CONNECT, new byte[39])));
        assertThrows(ProtocolViolationException.class, () -> parseFrame(frame(MessageType.EXEC_CMDLINE, new byte[4])));
        assertThrows(ProtocolViolationException.class,
                () -> parseFrame(frame(MessageType.EXEC_CMDLINE, concat(le(0, 513), "no-nul".getBytes()))));
        assertThrows(ProtocolViolationException.class,
                () -> parseFrame(frame(MessageType.EXEC_CMDLINE, concat(le(0, 513), new byte[] {(byte) 0xff, 0}))));
    }

    @Test
    void requestIdValidationFollowsTheCDaemon() {
        assertTrue(RequestId.of("SOCKET13").isWellFormed());
        assertTrue(RequestId.of("a-b_c. 9").isWellFormed());
        assertFalse(RequestId.of("SOCK/ET").isWellFormed());
        byte[] noNul = new byte[32];
        java.util.Arrays.fill(noNul, (byte) 'A');
        assertFalse(RequestId.ofRaw(noNul).isWellFormed());
        byte[] junkAfterNul = fixed("SOCKET1", 32);
        junkAfterNul[20] = 'x';
        assertFalse(RequestId.ofRaw(junkAfterNul).isWellFormed());
    }
}
