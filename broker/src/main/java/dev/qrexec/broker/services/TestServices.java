package dev.qrexec.broker.services;

import dev.qrexec.broker.agent.JavaService;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/** Small services for tests and benchmarks, shipped in every qube. */
public final class TestServices {

    private TestServices() {
    }

    /** {@code test.Echo}: copies stdin to stdout. */
    public static JavaService echo() {
        return call -> {
            call.stdin().transferTo(call.stdout());
            return 0;
        };
    }

    /** {@code test.ExitCode+N}: exits with N (0-255), after reading stdin; a bad N exits 125. */
    public static JavaService exitCode() {
        return call -> {
            call.stdin().transferTo(java.io.OutputStream.nullOutputStream());
            String arg = call.invocation().argument().orElse("0");
            try {
                int n = Integer.parseInt(arg);
                return n >= 0 && n <= 255 ? n : 125;
            } catch (NumberFormatException e) {
                return 125;
            }
        };
    }

    /** {@code test.Env}: prints the QREXEC_* variables of the call, sorted, one per line. */
    public static JavaService env() {
        return call -> {
            PrintStream out = new PrintStream(call.stdout(), true, StandardCharsets.UTF_8);
            new TreeMap<>(call.environment()).forEach((k, v) -> out.println(k + "=" + v));
            return 0;
        };
    }

    /** {@code test.Sink}: reads stdin to EOF and prints how many bytes came. */
    public static JavaService sink() {
        return call -> {
            long n = call.stdin().transferTo(java.io.OutputStream.nullOutputStream());
            new PrintStream(call.stdout(), true, StandardCharsets.UTF_8).println(n);
            return 0;
        };
    }

    /** {@code test.Source+N}: writes N bytes (at most 1 GiB) of a repeating pattern to stdout. */
    public static JavaService source() {
        return call -> {
            long n;
            try {
                n = Long.parseLong(call.invocation().argument().orElse("0"));
            } catch (NumberFormatException e) {
                return 125;
            }
            if (n < 0 || n > (1L << 30)) {
                return 125;
            }
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = (byte) i;
            }
            while (n > 0) {
                int k = (int) Math.min(n, chunk.length);
                call.stdout().write(chunk, 0, k);
                n -= k;
            }
            return 0;
        };
    }

    public static Map<String, JavaService> all() {
        return Map.of("test.Echo", echo(), "test.ExitCode", exitCode(), "test.Env", env(),
                "test.Sink", sink(), "test.Source", source());
    }
}
