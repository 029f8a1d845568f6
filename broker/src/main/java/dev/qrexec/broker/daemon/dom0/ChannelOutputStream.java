package dev.qrexec.broker.daemon.dom0;

import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.MessageType;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/**
 * A dom0 service's stdout as a blocking stream: each write becomes a DATA_STDOUT frame, and a
 * write waits while the channel's outbound buffer is over its high water mark (the caller is not
 * reading), so memory stays bounded. {@link #close()} sends the stdout EOF.
 */
public final class ChannelOutputStream extends OutputStream {

    private final Channel channel;
    private final Object writable = new Object();
    private boolean closed;

    public ChannelOutputStream(Channel channel) {
        this.channel = channel;
    }

    /** Event loop: the channel's writability changed. */
    public void writabilityChanged() {
        synchronized (writable) {
            writable.notifyAll();
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stdout already closed");
        }
        if (len == 0) {
            return;
        }
        awaitWritable();
        channel.writeAndFlush(new DataFrame(MessageType.DATA_STDOUT, Unpooled.copiedBuffer(b, off, len)));
    }

    private void awaitWritable() throws IOException {
        synchronized (writable) {
            while (channel.isActive() && !channel.isWritable()) {
                try {
                    // Timed: a writability event racing with this check cannot strand the writer.
                    writable.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while the caller was not reading");
                }
            }
        }
        if (!channel.isActive()) {
            throw new IOException("the caller closed the data connection");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (channel.isActive()) {
            channel.writeAndFlush(DataFrame.eof(MessageType.DATA_STDOUT));
        }
    }
}
