package dev.qrexec.bench.broker;

import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.MessageType;
import dev.qrexec.broker.wire.RequestId;
import dev.qrexec.broker.wire.Trigger;
import dev.qrexec.broker.wire.WireFormat;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The broker's per-frame cost in its codec pipelines (decode, state machine; encode with
 * re-chunking), on an EmbeddedChannel so no I/O is measured:
 * a TRIGGER_SERVICE4 through the daemon's control pipeline, and a 64 KiB DATA_STDOUT frame
 * through a data pipeline and back out of another one.
 *
 * <pre>bench/jmh WireCodecBenchmark -f 1 -wi 3 -i 5</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WireCodecBenchmark {

    private EmbeddedChannel control;
    private EmbeddedChannel dataIn;
    private EmbeddedChannel dataOut;
    private ByteBuf triggerFrame;
    private ByteBuf dataFrame;

    @Setup(Level.Trial)
    public void setUp() {
        control = new EmbeddedChannel();
        WirePipeline.install(control, ChannelRole.DAEMON_CONTROL);
        control.writeInbound(Unpooled.buffer().writeIntLE(MessageType.HELLO.code()).writeIntLE(4).writeIntLE(4));
        drain(control);
        dataIn = new EmbeddedChannel();
        WirePipeline.install(dataIn, ChannelRole.DATA_CLIENT);
        dataIn.writeInbound(Unpooled.buffer().writeIntLE(MessageType.HELLO.code()).writeIntLE(4).writeIntLE(4));
        drain(dataIn);
        dataOut = new EmbeddedChannel();
        WirePipeline.install(dataOut, ChannelRole.DATA_SERVICE);
        dataOut.writeInbound(Unpooled.buffer().writeIntLE(MessageType.HELLO.code()).writeIntLE(4).writeIntLE(2));
        drain(dataOut);
        triggerFrame = Unpooled.unreleasableBuffer(WireFormat.encode(ByteBufAllocator.DEFAULT,
                Trigger.v4("", "vault", RequestId.of("SOCKET13"), "qubes.OpenURL+")));
        ByteBuf data = Unpooled.buffer(8 + 65536).writeIntLE(MessageType.DATA_STDOUT.code()).writeIntLE(65536);
        data.writeZero(65536);
        dataFrame = Unpooled.unreleasableBuffer(data);
    }

    private static void drain(EmbeddedChannel ch) {
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @Benchmark
    public Object decodeTrigger() {
        control.writeInbound(triggerFrame.duplicate());
        return control.readInbound();
    }

    /** A 64 KiB chunk from a v4 service relayed to a v2 caller: decoded once, sent as 16 frames. */
    @Benchmark
    public int relayDataFrameToVersionTwo() {
        dataIn.writeInbound(dataFrame.duplicate());
        DataFrame d = dataIn.readInbound();
        dataOut.writeOutbound(d);
        int n = 0;
        for (Object o; (o = dataOut.readOutbound()) != null; ) {
            n++;
            ReferenceCountUtil.release(o);
        }
        return n;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        control.finishAndReleaseAll();
        dataIn.finishAndReleaseAll();
        dataOut.finishAndReleaseAll();
    }
}
