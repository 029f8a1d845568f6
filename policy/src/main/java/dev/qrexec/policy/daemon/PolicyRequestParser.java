package dev.qrexec.policy.daemon;

import java.util.HashMap;
import java.util.Map;

/**
 * Accumulates the {@code key=value} lines of one {@code policy.sock} request and validates them the
 * way the reference daemon does (spec 7.1): only the six known keys, each at most once, booleans
 * spelled exactly {@code yes}/{@code no}, and the three required keys present at the end.
 *
 * <p>Not thread-safe: one instance per request, used by the thread serving it.
 */
public final class PolicyRequestParser {

    /**
     * Longest accepted line, in bytes without the newline: the reference reads lines with asyncio's
     * default 64 KiB limit, and {@code service_and_arg} may legitimately be up to 65,000 bytes.
     */
    public static final int MAX_LINE_LENGTH = 65_536;

    static final String SOURCE = "source";
    static final String INTENDED_TARGET = "intended_target";
    static final String SERVICE_AND_ARG = "service_and_arg";
    static final String REQUESTED_SOURCE = "requested_source";
    static final String ASSUME_YES_FOR_ASK = "assume_yes_for_ask";
    static final String JUST_EVALUATE = "just_evaluate";

    private final Map<String, String> values = new HashMap<>(8);

    /**
     * Accepts one line, without its terminating newline (the empty line that ends a request is not
     * passed here).
     *
     * @throws MalformedRequestException if the line has no {@code =}, names an unknown key, repeats a
     *                                   key or spells a boolean other than {@code yes}/{@code no}
     */
    public void line(String line) throws MalformedRequestException {
        int eq = line.indexOf('=');
        if (eq < 0) {
            throw new MalformedRequestException("line without '=': " + quote(line));
        }
        String key = line.substring(0, eq);
        String value = line.substring(eq + 1);
        if (values.containsKey(key)) {
            throw new MalformedRequestException("duplicate argument " + quote(key));
        }
        switch (key) {
            case SOURCE, INTENDED_TARGET, SERVICE_AND_ARG, REQUESTED_SOURCE -> { }
            case ASSUME_YES_FOR_ASK, JUST_EVALUATE -> {
                if (!value.equals("yes") && !value.equals("no")) {
                    throw new MalformedRequestException(
                            "invalid bool value " + quote(value) + " for argument " + key);
                }
            }
            default -> throw new MalformedRequestException("unknown argument " + quote(key));
        }
        values.put(key, value);
    }

    /**
     * Ends the request.
     *
     * @throws MalformedRequestException if a required key is missing
     */
    public SocketRequest finish() throws MalformedRequestException {
        for (String required : new String[] {SOURCE, INTENDED_TARGET, SERVICE_AND_ARG}) {
            if (!values.containsKey(required)) {
                throw new MalformedRequestException("required argument missing: " + required);
            }
        }
        return new SocketRequest(
                values.get(SOURCE),
                values.get(INTENDED_TARGET),
                values.get(SERVICE_AND_ARG),
                values.getOrDefault(REQUESTED_SOURCE, ""),
                "yes".equals(values.get(ASSUME_YES_FOR_ASK)),
                "yes".equals(values.get(JUST_EVALUATE)));
    }

    /** Quotes and truncates untrusted text for a log line (it is ASCII, but may hold control bytes). */
    static String quote(String untrusted) {
        StringBuilder sb = new StringBuilder(Math.min(untrusted.length(), 64) + 2).append('\'');
        int n = Math.min(untrusted.length(), 64);
        for (int i = 0; i < n; i++) {
            char c = untrusted.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (untrusted.length() > n) {
            sb.append("...");
        }
        return sb.append('\'').toString();
    }
}
