package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Raw-frame helpers: tests build bytes by hand, as the upstream Python tests do. */
final class WireTestSupport {

    private WireTestSupport() {
    }

    static ByteBuf frame(int type, byte[] body) {
        return Unpooled.buffer().writeIntLE(type).writeIntLE(body.length).writeBytes(body);
    }

    static ByteBuf frame(MessageType type, byte[] body) {
        return frame(type.code(), body);
    }

    static byte[] le(int... ints) {
        ByteBuf b = Unpooled.buffer();
        for (int i : ints) {
            b.writeIntLE(i);
        }
        return bytes(b);
    }

    static byte[] fixed(String s, int size) {
        return Arrays.copyOf(s.getBytes(StandardCharsets.ISO_8859_1), size);
    }

    static byte[] concat(byte[]... parts) {
        ByteBuf b = Unpooled.buffer();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return bytes(b);
    }

    static byte[] cstr(String s) {
        return concat(s.getBytes(StandardCharsets.ISO_8859_1), new byte[] {0});
    }

    static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    /** All bytes the channel wrote so far, concatenated. */
    static byte[] drainOutbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        return bytes(all);
    }

    static byte[] helloBytes(int version) {
        return bytes(frame(MessageType.HELLO, le(version)));
    }

    static EmbeddedChannel channel(ChannelRole role) {
        EmbeddedChannel ch = new EmbeddedChannel();
        WirePipeline.install(ch, role);
        return ch;
    }
}
