package dev.qrexec.broker.services;

import dev.qrexec.broker.agent.JavaService;
import dev.qrexec.broker.agent.ServiceCall;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;

/**
 * {@code qubes.OpenInVM} (spec 8): stdin is a 256-byte NUL-padded base name ({@code view-only-}
 * prefixed in view-only mode), then the file's bytes. The file is saved as
 * {@code <dir>/<caller>/<name>}, opened once the session is up, and written back on stdout if it
 * was modified (never in view-only mode). Failures exit 1.
 */
public final class OpenInVm implements JavaService {

    static final int NAME_SIZE = 256;
    static final String VIEW_ONLY = "view-only-";
    static final Duration SESSION_WAIT = Duration.ofSeconds(60);

    private final Path directory;
    private final FileOpener opener;
    private final long maxBytes;

    /**
     * @param directory where received files go, one sub-directory per caller
     * @param maxBytes  largest file accepted (the disk of a qube is finite)
     */
    public OpenInVm(Path directory, FileOpener opener, long maxBytes) {
        this.directory = directory;
        this.opener = opener;
        this.maxBytes = maxBytes;
    }

    @Override
    public int run(ServiceCall call) throws Exception {
        PrintStream err = new PrintStream(call.stderr(), true, StandardCharsets.UTF_8);
        byte[] header = call.stdin().readNBytes(NAME_SIZE);
        if (header.length != NAME_SIZE) {
            err.println("qubes.OpenInVM: truncated file name header");
            return 1;
        }
        String name = baseName(header);
        if (name == null) {
            err.println("qubes.OpenInVM: invalid file name");
            return 1;
        }
        boolean viewOnly = name.startsWith(VIEW_ONLY);
        if (viewOnly) {
            name = name.substring(VIEW_ONLY.length());
            if (name.isEmpty()) {
                err.println("qubes.OpenInVM: invalid file name");
                return 1;
            }
        }
        String caller = call.invocation().source();
        if (!caller.matches("[A-Za-z0-9_.-]+") || caller.equals(".") || caller.equals("..")) {
            err.println("qubes.OpenInVM: invalid caller name");
            return 1;
        }
        Path dir = Files.createDirectories(directory.resolve(caller));
        Path file = dir.resolve(name);
        // Other processes of the qube can write in the directory: never follow a planted symlink.
        if (!file.getParent().equals(dir) || Files.isSymbolicLink(dir) || Files.isSymbolicLink(file)) {
            err.println("qubes.OpenInVM: invalid file name");
            return 1;
        }
        if (!copyLimited(call.stdin(), file)) {
            Files.deleteIfExists(file);
            err.println("qubes.OpenInVM: file larger than " + maxBytes + " bytes");
            return 1;
        }
        if (!call.agent().awaitSession(SESSION_WAIT)) {
            err.println("qubes.OpenInVM: no user session");
            return 1;
        }
        FileTime before = Files.getLastModifiedTime(file);
        byte[] original = viewOnly ? null : Files.readAllBytes(file);
        int status = opener.open(file, viewOnly);
        if (status != 0) {
            err.println("qubes.OpenInVM: opener exited with " + status);
            return 1;
        }
        if (!viewOnly && (!Files.getLastModifiedTime(file).equals(before)
                || !Arrays.equals(original, Files.readAllBytes(file)))) {
            try (InputStream in = Files.newInputStream(file)) {
                in.transferTo(call.stdout());
            }
        }
        return 0;
    }

    /** The name from the header: text before the first NUL, a plain base name, or null. */
    static String baseName(byte[] header) {
        int end = 0;
        while (end < header.length && header[end] != 0) {
            end++;
        }
        if (end == 0 || end == header.length) {
            return null; // empty, or no NUL terminator within 256 bytes
        }
        String name = new String(header, 0, end, StandardCharsets.UTF_8);
        if (name.contains("/") || name.equals(".") || name.equals("..") || name.chars().anyMatch(c -> c < 0x20)) {
            return null;
        }
        return name;
    }

    private boolean copyLimited(InputStream in, Path file) throws IOException {
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                total += n;
                if (total > maxBytes) {
                    return false;
                }
                out.write(buf, 0, n);
            }
        }
        return true;
    }
}
