package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * One prompt agent's connection to the prompt socket: identifies the peer when the connection
 * becomes active (refused peers are closed), hands {@code answer} lines to the {@link PromptHub},
 * and is the hub's way to send the agent a line. A malformed line, an unknown message, a line
 * over {@link PromptProtocol#MAX_LINE} bytes or an agent that stops reading closes the connection
 * with a logged reason; the hub then denies the agent's open questions.
 *
 * <p>Threads: everything runs on the channel's event loop except {@link #send}, which may be
 * called from any thread (Netty queues the write on the loop).
 */
final class PromptAgentHandler extends SimpleChannelInboundHandler<String> implements PromptHub.PromptAgent {

    private static final Logger LOG = System.getLogger(PromptAgentHandler.class.getName());

    private final PromptHub hub;
    private final Function<Channel, String> identify;
    private final ObjectMapper json = new ObjectMapper();
    // Written on the event loop, read by send() from any thread.
    private volatile Channel channel;
    private volatile String name = "?";
    private boolean attached;

    /**
     * @param identify names the peer of a new connection (e.g. from SO_PEERCRED), or returns null
     *                 to refuse it
     */
    PromptAgentHandler(PromptHub hub, Function<Channel, String> identify) {
        this.hub = hub;
        this.identify = identify;
    }

    /** The prompt socket's pipeline: lines of UTF-8 JSON, then this handler. */
    static void install(Channel ch, PromptHub hub, Function<Channel, String> identify) {
        ch.pipeline().addLast(new LineBasedFrameDecoder(PromptProtocol.MAX_LINE, true, true),
                new StringDecoder(StandardCharsets.UTF_8), new StringEncoder(StandardCharsets.UTF_8),
                new PromptAgentHandler(hub, identify));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        String who = identify.apply(ctx.channel());
        if (who == null) {
            ctx.close();
            return;
        }
        name = who;
        attached = true;
        hub.attached(this);
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, String line) {
        if (!attached) {
            return;
        }
        JsonNode n;
        try {
            n = json.readTree(line);
        } catch (IOException e) {
            refuse(ctx, "malformed JSON line");
            return;
        }
        if (n == null || !"answer".equals(n.path("type").asText()) || !n.path("id").canConvertToLong()
                || !n.path("answer").isTextual()) {
            refuse(ctx, "expected {\"type\":\"answer\",\"id\":N,\"answer\":\"...\"}");
            return;
        }
        hub.answered(this, n.path("id").asLong(), n.path("answer").asText());
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        LOG.log(Level.WARNING, "prompt agent {0}: {1}; closing", name, why);
        ctx.close();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable()) {
            refuse(ctx, "it does not read what it is sent");
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (attached) {
            attached = false;
            hub.detached(this);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        refuse(ctx, cause.toString());
    }

    @Override
    public boolean send(String jsonLine) {
        Channel ch = channel;
        if (ch == null || !ch.isActive() || !ch.isWritable()) {
            return false;
        }
        ch.writeAndFlush(jsonLine + "\n");
        return true;
    }

    @Override
    public String describe() {
        return name;
    }
}
