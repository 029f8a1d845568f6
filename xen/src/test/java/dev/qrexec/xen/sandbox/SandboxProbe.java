package dev.qrexec.xen.sandbox;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs INSIDE a sandbox, as a qube's init (a JVM from the host's /usr/lib/jvm, this class from the
 * read-only /probe): looks at what the qube can reach and prints {@code key=value} lines to its
 * console.
 *
 * <pre>
 * isolation &lt;tcpPort&gt; &lt;path&gt;...   read each path, list interfaces, connect to host TCP and to sockets
 * listen &lt;socket-name&gt;            listen on /run/vchan/&lt;socket-name&gt; and idle
 * </pre>
 */
public final class SandboxProbe {

    private SandboxProbe() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "isolation" -> isolation(Integer.parseInt(args[1]), List.of(args).subList(2, args.length));
            case "listen" -> listen(args[1]);
            default -> throw new IllegalArgumentException("unknown probe " + args[0]);
        }
    }

    private static void isolation(int tcpPort, List<String> paths) {
        System.out.println("uid=" + statusField("Uid"));
        System.out.println("capeff=" + statusField("CapEff"));
        List<String> ifaces = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                ifaces.add(nic.getName());
            }
        } catch (IOException e) {
            ifaces.add("error:" + e);
        }
        Collections.sort(ifaces);
        System.out.println("ifaces=" + String.join(",", ifaces));
        System.out.println("tcp=" + connectTcp(tcpPort));
        System.out.println("pid1=" + read(Path.of("/proc/1/cmdline")) + ":" + pid1CommandLine());
        for (String path : paths) {
            if (path.endsWith(".sock")) {
                System.out.println("unix:" + path + "=" + connectUnix(Path.of(path)));
            } else {
                System.out.println("read:" + path + "=" + read(Path.of(path)));
            }
        }
        System.out.println("write:/=" + write(Path.of("/probe-was-here")));
        System.out.println("write:/usr=" + write(Path.of("/usr/probe-was-here")));
        System.out.println("write:/tmp=" + write(Path.of("/tmp/probe-was-here")));
        System.out.println("write:/home/user=" + write(Path.of("/home/user/probe-was-here")));
        System.out.println("done=yes");
    }

    private static String statusField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return line.substring(field.length() + 1).trim().split("\\s+")[0];
                }
            }
            return "missing";
        } catch (IOException e) {
            return "error:" + e;
        }
    }

    private static String pid1CommandLine() {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/1/cmdline")), java.nio.charset.StandardCharsets.UTF_8)
                    .replace('\0', ' ').replace('=', '_');
        } catch (IOException e) {
            return "error:" + e;
        }
    }

    private static String connectTcp(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return "CONNECTED";
        } catch (IOException e) {
            return "failed:" + e.getClass().getSimpleName();
        }
    }

    private static String connectUnix(Path path) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            return "CONNECTED";
        } catch (IOException e) {
            return "failed:" + e.getClass().getSimpleName();
        }
    }

    private static String read(Path path) {
        try {
            if (Files.isDirectory(path)) {
                try (var entries = Files.list(path)) {
                    return "LISTED:" + entries.count();
                }
            }
            return "READ:" + Files.readAllBytes(path).length;
        } catch (NoSuchFileException e) {
            return "absent";
        } catch (AccessDeniedException e) {
            return "denied";
        } catch (IOException e) {
            return "failed:" + e.getClass().getSimpleName();
        }
    }

    private static String write(Path path) {
        try {
            Files.writeString(path, "x");
            return "WROTE";
        } catch (IOException e) {
            return "failed:" + e.getClass().getSimpleName();
        }
    }

    private static void listen(String name) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(Path.of("/run/vchan", name)));
        System.out.println("listening=" + name);
        System.out.flush();
        while (true) {
            LockSupport.park();
        }
    }
}
