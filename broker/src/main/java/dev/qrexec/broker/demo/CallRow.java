package dev.qrexec.broker.demo;

import java.util.Locale;

/**
 * One demo call, as printed: what was asked, what the policy decided and by which rule, which
 * disposable served it and whether it came from the preload queue, and how long it took.
 *
 * @param call       service and argument as the caller wrote it, with a short label of the input
 * @param target     the target the caller asked for ({@code @dispvm}, a qube name)
 * @param decision   {@code allow}, {@code deny} or {@code ask}
 * @param rule       {@code file:line} of the deciding rule, or {@code -} when no rule matched
 * @param disposable the disposable that served the call, or {@code -}
 * @param origin     {@code preloaded}, {@code cold} or {@code -}
 * @param firstByteMillis trigger to the service's first stdout byte, or -1 if it wrote none
 * @param totalMillis trigger to the caller's exit code
 * @param exitCode   the caller's exit code (126 refused, 127 no such service)
 */
public record CallRow(String call, String target, String decision, String rule, String disposable, String origin,
                      double firstByteMillis, double totalMillis, int exitCode) {

    public static final String HEADER = String.format(Locale.ROOT, "%-44s %-9s %-8s %-26s %-10s %-9s %8s %4s",
            "call (from work)", "target", "decision", "rule", "qube", "origin", "latency", "exit");

    public boolean preloaded() {
        return origin.equals("preloaded");
    }

    public String format() {
        return String.format(Locale.ROOT, "%-44s %-9s %-8s %-26s %-10s %-9s %5.1f ms %4d", call, target, decision,
                rule, disposable, origin, totalMillis, exitCode);
    }
}
