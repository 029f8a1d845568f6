package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.qrexec.broker.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class ProtocolStateHandlerTest {

    /** Records user events so tests can see HandshakeCompleted and ProtocolViolation. */
    static final class Events extends ChannelInboundHandlerAdapter {
        final List<Object> events = new ArrayList<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
        }
    }

    private static EmbeddedChannel channelWithEvents(ChannelRole role, Events events) {
        EmbeddedChannel ch = new EmbeddedChannel();
        WirePipeline.install(ch, role);
        ch.pipeline().addLast(events);
        return ch;
    }

    private static byte[] trigger4(String target, String service) {
        return bytes(frame(MessageType.TRIGGER_SERVICE4,
                concat(new byte[64], fixed(target, 64), fixed("SOCKET13", 32), cstr(service))));
    }

    @Test
    void daemonControlWaitsForHelloAndRepliesWithTheMinimum() {
        Events ev = new Events();
        EmbeddedChannel ch = channelWithEvents(ChannelRole.DAEMON_CONTROL, ev);
        assertNull(ch.readOutbound(), "the daemon must not speak first on the control channel");
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(3)));
        assertArrayEquals(helloBytes(3), drainOutbound(ch));
        assertEquals(new HandshakeCompleted(ChannelRole.DAEMON_CONTROL, 3), ev.events.get(0));
        assertEquals(3, WireSession.of(ch).version());
    }

    @Test
    void newerAgentGetsOurVersion() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(7)));
        assertArrayEquals(helloBytes(4), drainOutbound(ch));
    }

    @Test
    void appendixATriggerIsDeliveredAfterHandshake() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        // Both frames in one read: the limit change after HELLO must apply to the next frame.
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4), trigger4("vm47", "test.Echo+a1")));
        Trigger t = ch.readInbound();
        assertEquals("vm47", t.targetDomain());
        assertEquals("test.Echo+a1", t.serviceName());
        assertTrue(ch.isOpen());
    }

    @Test
    void agentBelowVersionTwoIsRefused() {
        Events ev = new Events();
        EmbeddedChannel ch = channelWithEvents(ChannelRole.DAEMON_CONTROL, ev);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(1)));
        assertFalse(ch.isOpen());
        ProtocolViolation v = (ProtocolViolation) ev.events.get(0);
        assertTrue(v.reason().contains("version 1"), v.reason());
    }

    @Test
    void anythingBeforeHelloClosesTheChannel() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        ch.writeInbound(Unpooled.wrappedBuffer(trigger4("vm47", "svc")));
        assertFalse(ch.isOpen());
        assertNull(ch.readInbound());
    }

    @Test
    void secondHelloClosesTheChannel() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4), helloBytes(4)));
        assertFalse(ch.isOpen());
    }

    @Test
    void triggerTypeMustMatchTheNegotiatedVersion() {
        EmbeddedChannel v4 = channel(ChannelRole.DAEMON_CONTROL);
        byte[] t2 = bytes(frame(MessageType.TRIGGER_SERVICE,
                concat(fixed("svc", 64), fixed("vm2", 64), fixed("SOCKET1", 32))));
        v4.writeInbound(Unpooled.wrappedBuffer(helloBytes(4), t2));
        assertFalse(v4.isOpen(), "TRIGGER_SERVICE is only for version 2");

        EmbeddedChannel v2 = channel(ChannelRole.DAEMON_CONTROL);
        byte[] t3 = bytes(frame(MessageType.TRIGGER_SERVICE3, concat(fixed("vm2", 64), fixed("SOCKET1", 32), cstr("svc"))));
        v2.writeInbound(Unpooled.wrappedBuffer(helloBytes(2), t3));
        assertFalse(v2.isOpen(), "TRIGGER_SERVICE3 needs version 3");

        EmbeddedChannel v3 = channel(ChannelRole.DAEMON_CONTROL);
        v3.writeInbound(Unpooled.wrappedBuffer(helloBytes(3), trigger4("vm2", "svc")));
        assertTrue(v3.isOpen(), "TRIGGER_SERVICE4 is accepted at any version");
        assertNotNull(v3.readInbound());
    }

    @Test
    void messageOfAnotherChannelTypeClosesTheChannel() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4),
                bytes(frame(MessageType.DATA_STDOUT, "x".getBytes()))));
        assertFalse(ch.isOpen());
    }

    @Test
    void unknownTypeClosesWithoutReadingTheBody() {
        Events ev = new Events();
        EmbeddedChannel ch = channelWithEvents(ChannelRole.DAEMON_CONTROL, ev);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)));
        ByteBuf header = Unpooled.buffer().writeIntLE(0x999).writeIntLE(100);
        ch.writeInbound(header);
        assertFalse(ch.isOpen());
        assertTrue(((ProtocolViolation) ev.events.get(1)).reason().contains("unknown message type 0x999"));
    }

    @Test
    void controlFrameOverFourKilobytesIsRefusedFromItsHeader() {
        Events ev = new Events();
        EmbeddedChannel ch = channelWithEvents(ChannelRole.DAEMON_CONTROL, ev);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)));
        // Only the header: the decoder must not wait for 5000 bytes of body.
        ch.writeInbound(Unpooled.buffer().writeIntLE(MessageType.TRIGGER_SERVICE4.code()).writeIntLE(5000));
        assertFalse(ch.isOpen());
        assertTrue(((ProtocolViolation) ev.events.get(1)).reason().contains("exceeds the limit"));
    }

    @Test
    void hugeUnsignedLengthIsRefused() {
        EmbeddedChannel ch = channel(ChannelRole.DATA_SERVICE);
        drainOutbound(ch);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)));
        ch.writeInbound(Unpooled.buffer().writeIntLE(MessageType.DATA_STDIN.code()).writeIntLE(0xffff_fff0));
        assertFalse(ch.isOpen());
    }

    @Test
    void triggerNearTheFourKilobyteLimitPasses() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        // spec 10.4: a 3900-character service name (len 4071) went through the real agent.
        String name = "a".repeat(3900);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4), trigger4("vm2", name)));
        Trigger t = ch.readInbound();
        assertEquals(name, t.serviceName());
    }

    @Test
    void dataEndsSendHelloFirstAndNegotiatePerChannel() {
        EmbeddedChannel ch = channel(ChannelRole.DATA_CLIENT);
        assertArrayEquals(helloBytes(4), drainOutbound(ch));
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(2)));
        assertEquals(2, WireSession.of(ch).version());
        assertNull(ch.readOutbound(), "a SEND_FIRST end does not answer the peer's HELLO");
    }

    @Test
    void versionTwoDataChannelSplitsAndLimitsChunksAtFourKilobytes() {
        EmbeddedChannel ch = channel(ChannelRole.DATA_SERVICE);
        drainOutbound(ch);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(2)));
        ch.writeOutbound(new DataFrame(MessageType.DATA_STDOUT, Unpooled.wrappedBuffer(new byte[10_000])));
        ByteBuf out = Unpooled.wrappedBuffer(drainOutbound(ch));
        int[] sizes = new int[3];
        for (int i = 0; i < 3; i++) {
            assertEquals(MessageType.DATA_STDOUT.code(), out.readIntLE());
            sizes[i] = out.readIntLE();
            out.skipBytes(sizes[i]);
        }
        assertArrayEquals(new int[] {4096, 4096, 1808}, sizes);
        assertFalse(out.isReadable());

        ch.writeInbound(frame(MessageType.DATA_STDIN, new byte[4097]));
        assertFalse(ch.isOpen(), "a v2 peer may not send chunks over 4096 bytes");
    }

    @Test
    void versionFourDataChannelAcceptsSixtyFourKilobyteChunks() {
        EmbeddedChannel ch = channel(ChannelRole.DATA_SERVICE);
        drainOutbound(ch);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)), frame(MessageType.DATA_STDIN, new byte[65536]));
        DataFrame d = ch.readInbound();
        assertEquals(65536, d.content().readableBytes());
        d.release();
        ch.writeInbound(frame(MessageType.DATA_STDIN, new byte[65537]));
        assertFalse(ch.isOpen());
    }

    @Test
    void dataSentTheWrongWayIsDroppedNotFatal() {
        EmbeddedChannel ch = channel(ChannelRole.DATA_SERVICE);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)), frame(MessageType.DATA_STDOUT, "x".getBytes()),
                frame(MessageType.DATA_STDIN, "y".getBytes()));
        DataFrame d = ch.readInbound();
        assertEquals(MessageType.DATA_STDIN, d.type());
        d.release();
        assertNull(ch.readInbound());
        assertTrue(ch.isOpen());
    }

    @Test
    void emptyDataFrameIsEof() {
        EmbeddedChannel ch = channel(ChannelRole.DATA_CLIENT);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)), frame(MessageType.DATA_STDOUT, new byte[0]));
        DataFrame d = ch.readInbound();
        assertTrue(d.isEof());
        ch.writeOutbound(DataFrame.eof(MessageType.DATA_STDIN));
        drainOutbound(ch); // our HELLO
    }

    @Test
    void localDaemonSpeaksFirstWithVersionThreeAndRefusesOlderClients() {
        EmbeddedChannel ch = channel(ChannelRole.LOCAL_DAEMON);
        assertArrayEquals(helloBytes(3), drainOutbound(ch));
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(2)));
        assertFalse(ch.isOpen());
    }

    @Test
    void triggerSocketHasNoHello() {
        EmbeddedChannel ch = channel(ChannelRole.TRIGGER_SOCKET);
        assertNull(ch.readOutbound());
        ch.writeInbound(Unpooled.wrappedBuffer(trigger4("vm2", "svc")));
        assertNotNull(ch.readInbound());
    }

    @Test
    void oversizeControlWriteFailsInsteadOfBlockingTheAgent() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        ch.writeInbound(Unpooled.wrappedBuffer(helloBytes(4)));
        drainOutbound(ch);
        ChannelFuture f = ch.writeOneOutbound(ExecCommand.exec(0, 513, "user:" + "x".repeat(5000)));
        ch.flushOutbound();
        assertFalse(f.isSuccess());
        assertTrue(f.cause().getMessage().contains("exceeds"), f.cause().getMessage());
        assertNull(ch.readOutbound());
    }

    @Test
    void headerSplitAcrossReadsIsReassembled() {
        EmbeddedChannel ch = channel(ChannelRole.DAEMON_CONTROL);
        byte[] all = concat(helloBytes(4), bytes(frame(MessageType.CONNECTION_TERMINATED, le(0, 513))));
        for (byte b : all) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertEquals(new ConnectionTerminated(0, 513), ch.readInbound());
    }
}
