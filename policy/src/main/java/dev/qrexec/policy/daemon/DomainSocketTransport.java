package dev.qrexec.policy.daemon;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/** The two ways this daemon can serve a Unix domain socket: native epoll, or the JDK's NIO (Java 16+). */
public enum DomainSocketTransport {
    EPOLL {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return EpollIoHandler.newFactory();
        }

        @Override
        Class<? extends ServerChannel> serverChannelClass() {
            return EpollServerDomainSocketChannel.class;
        }

        @Override
        SocketAddress address(Path path) {
            return new DomainSocketAddress(path.toString());
        }

        @Override
        public boolean isAvailable() {
            return Epoll.isAvailable();
        }

        @Override
        public boolean supportsHalfClosure() {
            return true;
        }
    },
    NIO {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        Class<? extends ServerChannel> serverChannelClass() {
            return NioServerDomainSocketChannel.class;
        }

        @Override
        SocketAddress address(Path path) {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public boolean supportsHalfClosure() {
            return false;
        }
    };

    abstract IoHandlerFactory ioHandlerFactory();

    abstract Class<? extends ServerChannel> serverChannelClass();

    abstract SocketAddress address(Path path);

    /** Whether this transport can run here (epoll needs Linux and its native library). */
    public abstract boolean isAvailable();

    /**
     * Whether a request ended by EOF (half-close) can still be answered. qrexec-daemon always ends
     * its request with an empty line, so NIO's lack of it only affects unusual clients: they get no
     * reply, which qrexec-daemon would treat as malformed and fall back.
     */
    public abstract boolean supportsHalfClosure();

    /** Epoll when it is available, else NIO. */
    public static DomainSocketTransport best() {
        return EPOLL.isAvailable() ? EPOLL : NIO;
    }
}
