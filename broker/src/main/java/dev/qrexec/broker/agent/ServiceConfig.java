package dev.qrexec.broker.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Per-service configuration (spec 7.2): a file {@code svc+arg} or {@code svc} in
 * {@code QUBES_RPC_CONFIG_PATH}, in the small TOML subset qrexec understands: {@code key = value} lines,
 * {@code #} comments, booleans ({@code true}/{@code false} or {@code 1}/{@code 0}) and one string key.
 * Files over 4096 bytes or with unknown syntax are rejected: the call then fails with exit code 125,
 * as a broken config must not silently change how a service runs.
 */
public record ServiceConfig(boolean waitForSession, boolean exitOnClientEof, boolean exitOnServiceEof,
                            boolean skipServiceDescriptor, Optional<String> forceUser) {

    public static final String DEFAULT_PATH =
            "/run/qubes/rpc-config:/usr/local/etc/qubes/rpc-config:/etc/qubes/rpc-config";
    static final int MAX_BYTES = 4096;

    public static final ServiceConfig DEFAULTS =
            new ServiceConfig(false, false, false, false, Optional.empty());

    /** Looks the config up for a call: {@code svc+arg} then {@code svc} in each directory. */
    public static ServiceConfig lookup(List<Path> directories, RpcInvocation call) throws IOException {
        for (Path dir : directories) {
            List<String> names = new ArrayList<>();
            if (call.argument().isPresent()) {
                names.add(call.fullName());
            }
            names.add(call.service());
            for (String name : names) {
                Path file = dir.resolve(name);
                if (Files.isRegularFile(file)) {
                    return parse(file);
                }
            }
        }
        return DEFAULTS;
    }

    static ServiceConfig parse(Path file) throws IOException {
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException("service config " + file + " is over " + MAX_BYTES + " bytes");
        }
        return parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8), file.toString());
    }

    static ServiceConfig parse(String text, String origin) throws IOException {
        boolean wait = false;
        boolean clientEof = false;
        boolean serviceEof = false;
        boolean skipDescriptor = false;
        Optional<String> user = Optional.empty();
        int lineNo = 0;
        for (String raw : text.split("\n", -1)) {
            lineNo++;
            String line = stripComment(raw).strip();
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IOException(origin + ":" + lineNo + ": expected 'key = value'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            String where = origin + ":" + lineNo;
            switch (key) {
                case "wait-for-session" -> wait = bool(value, where);
                case "exit-on-client-eof" -> clientEof = bool(value, where);
                case "exit-on-service-eof" -> serviceEof = bool(value, where);
                case "skip-service-descriptor" -> skipDescriptor = bool(value, where);
                case "force-user" -> user = Optional.of(string(value, where));
                default -> throw new IOException(where + ": unknown key '" + key + "'");
            }
        }
        return new ServiceConfig(wait, clientEof, serviceEof, skipDescriptor, user);
    }

    private static String stripComment(String line) {
        // '#' inside a quoted string is kept; the only strings are user names, which cannot hold '#'.
        int hash = line.indexOf('#');
        return hash < 0 ? line : line.substring(0, hash);
    }

    private static boolean bool(String value, String where) throws IOException {
        return switch (value) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new IOException(where + ": expected true/false, got '" + value + "'");
        };
    }

    private static String string(String value, String where) throws IOException {
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            String s = value.substring(1, value.length() - 1);
            if (!s.isEmpty() && !s.contains("\"") && !s.contains("\\")) {
                return s;
            }
        }
        throw new IOException(where + ": expected a simple quoted string, got '" + value + "'");
    }
}
