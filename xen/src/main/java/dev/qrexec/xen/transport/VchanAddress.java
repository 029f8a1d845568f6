package dev.qrexec.xen.transport;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where one vchan lives when vchan is stood in for by Unix sockets, named exactly as Qubes'
 * libvchan-socket names it: {@code <dir>/vchan.<server>.<client>.<port>.sock}.
 *
 * <p>The server is the domain that listens ({@code libvchan_server_init}), the client the one that
 * connects. Use {@link #listening} and {@link #connecting} to build one from "my domain, the other
 * domain" as the C library does from {@code VCHAN_DOMAIN}.
 *
 * @param dir    directory of the sockets (in this project: the qube's own channel directory)
 * @param server domain id of the listening side (0 = dom0)
 * @param client domain id of the connecting side
 * @param port   vchan port (512 = qrexec control channel, 513.. = data channels)
 */
public record VchanAddress(Path dir, int server, int client, int port) {

    /**
     * Longest socket path accepted. {@code sun_path} is 108 bytes, so C allows 107 plus the NUL;
     * the JDK's Unix-domain sockets (the NIO transport) stop at 106, and that is the limit here so
     * that an address works on both transports.
     */
    public static final int MAX_PATH_BYTES = 106;

    private static final Pattern FILE_NAME = Pattern.compile("vchan\\.(\\d{1,10})\\.(\\d{1,10})\\.(\\d{1,10})\\.sock");

    public VchanAddress {
        Objects.requireNonNull(dir, "dir");
        requireNonNegative(server, "server domain");
        requireNonNegative(client, "client domain");
        requireNonNegative(port, "port");
        if (server == client) {
            throw new IllegalArgumentException("a vchan joins two domains; server and client are both " + server);
        }
        int bytes = dir.resolve(fileName(server, client, port)).toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("socket path " + dir.resolve(fileName(server, client, port))
                    + " is " + bytes + " bytes; a Unix socket path may have at most " + MAX_PATH_BYTES
                    + ": use a shorter channel directory");
        }
    }

    /** The address {@code ownDomain} listens on for {@code remoteDomain} (libvchan_server_init). */
    public static VchanAddress listening(Path dir, int ownDomain, int remoteDomain, int port) {
        return new VchanAddress(dir, ownDomain, remoteDomain, port);
    }

    /** The address {@code ownDomain} connects to when {@code remoteDomain} listens (libvchan_client_init). */
    public static VchanAddress connecting(Path dir, int ownDomain, int remoteDomain, int port) {
        return new VchanAddress(dir, remoteDomain, ownDomain, port);
    }

    /** Reads an address back from a socket path; fails on a name libvchan-socket would not make. */
    public static VchanAddress parse(Path socket) {
        Path name = socket.getFileName();
        Matcher m = name == null ? null : FILE_NAME.matcher(name.toString());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("not a vchan socket name (vchan.<server>.<client>.<port>.sock): " + socket);
        }
        Path dir = socket.getParent() == null ? Path.of(".") : socket.getParent();
        return new VchanAddress(dir, parseId(m.group(1), socket), parseId(m.group(2), socket), parseId(m.group(3), socket));
    }

    /** The socket's file. */
    public Path path() {
        return dir.resolve(fileName(server, client, port));
    }

    @Override
    public String toString() {
        return path().toString();
    }

    private static String fileName(int server, int client, int port) {
        return "vchan." + server + "." + client + "." + port + ".sock";
    }

    private static int parseId(String digits, Path socket) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("number out of range in vchan socket name: " + socket, e);
        }
    }

    private static void requireNonNegative(int value, String what) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " must not be negative, was " + value);
        }
    }
}
