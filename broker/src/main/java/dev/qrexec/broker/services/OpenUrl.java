package dev.qrexec.broker.services;

import dev.qrexec.broker.agent.JavaService;
import dev.qrexec.broker.agent.ServiceCall;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code qubes.OpenURL} (spec 8): reads one line, accepts only {@code http://}, {@code https://} and
 * {@code ftp://} URLs and hands them to the configured {@link UrlOpener}; anything else gets
 * {@code Invalid URL} on stderr and exit status 1. A line longer than {@value #MAX_URL} bytes is
 * refused the same way: the caller controls the input.
 */
public final class OpenUrl implements JavaService {

    static final int MAX_URL = 64 * 1024;
    private static final String[] SCHEMES = {"http://", "https://", "ftp://"};

    private final UrlOpener opener;

    public OpenUrl(UrlOpener opener) {
        this.opener = opener;
    }

    @Override
    public int run(ServiceCall call) throws Exception {
        String url = readLine(call.stdin());
        PrintStream err = new PrintStream(call.stderr(), true, StandardCharsets.UTF_8);
        if (url == null || !isAllowed(url)) {
            err.println("Invalid URL");
            return 1;
        }
        // Read the rest so the caller's write never fails; the reference service ignores it too.
        call.stdin().transferTo(java.io.OutputStream.nullOutputStream());
        return opener.open(url, call.invocation().source());
    }

    static boolean isAllowed(String url) {
        for (String scheme : SCHEMES) {
            if (url.startsWith(scheme) && url.length() > scheme.length()) {
                return url.chars().allMatch(c -> c > 0x20 && c < 0x7f);
            }
        }
        return false;
    }

    /** The first line without its newline, or null if it is too long or not UTF-8. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            if (line.size() >= MAX_URL) {
                return null;
            }
            line.write(c);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(line.toByteArray())).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }
}
