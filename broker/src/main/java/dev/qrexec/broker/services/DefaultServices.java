package dev.qrexec.broker.services;

import dev.qrexec.broker.agent.JavaService;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The Java services a qube's agent ships. They are fallbacks: a file of the same name in the
 * service path wins, so a template can replace any of them with a script, as Qubes agents expect.
 * Java services were chosen where the work is small (a fork and exec would cost more than the
 * call) or must act on the agent itself ({@code qubes.ReleaseMemory}, the two waits).
 */
public final class DefaultServices {

    /** Largest file {@code qubes.OpenInVM} accepts by default: 1 GiB. */
    public static final long DEFAULT_MAX_FILE = 1L << 30;

    private DefaultServices() {
    }

    /** The services of the default template, with URLs and files opened by the given actions. */
    public static Map<String, JavaService> template(UrlOpener urls, FileOpener files, Path openInVmDir) {
        Map<String, JavaService> m = new HashMap<>(TestServices.all());
        m.put("qubes.OpenURL", new OpenUrl(urls));
        m.put("qubes.OpenInVM", new OpenInVm(openInVmDir, files, DEFAULT_MAX_FILE));
        m.put("qubes.WaitForRunningSystem", AgentServices.waitForRunningSystem());
        m.put("qubes.WaitForSession", AgentServices.waitForSession());
        m.put("qubes.ReleaseMemory", AgentServices.releaseMemory());
        return Map.copyOf(m);
    }

    /** The default template with log-only actions and files under {@code /tmp}. */
    public static Map<String, JavaService> template() {
        return template(UrlOpener.logOnly(), FileOpener.logOnly(), Path.of("/tmp"));
    }
}
