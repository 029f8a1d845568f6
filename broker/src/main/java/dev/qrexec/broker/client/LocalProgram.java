package dev.qrexec.broker.client;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * The local program of {@code qrexec-client-vm ... LOCAL_PROGRAM} / {@code qrexec-client -l}: its
 * stdout becomes the remote stdin and the remote stdout becomes its stdin; its stderr is ours.
 */
final class LocalProgram {

    private final Process process;

    private LocalProgram(Process process) {
        this.process = process;
    }

    static LocalProgram start(List<String> argv) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return new LocalProgram(pb.start());
    }

    /** Shell form used by {@code qrexec-client -l "CMD"}. */
    static LocalProgram shell(String command) throws IOException {
        return start(List.of("/bin/sh", "-c", command));
    }

    InputStream stdout() {
        return process.getInputStream();
    }

    OutputStream stdin() {
        return process.getOutputStream();
    }

    int waitFor() throws InterruptedException {
        return process.waitFor();
    }

    void destroy() {
        process.destroy();
    }

    /** Our own stdout/stderr must outlive the call (messages may follow), so EOF only flushes. */
    static OutputStream unclosable(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }

    /** The local program's stdin is closed at remote stdout EOF (it needs the EOF); ours is not. */
    static OutputStream unclosableUnless(OutputStream out, LocalProgram local) {
        return local != null ? out : unclosable(out);
    }
}
