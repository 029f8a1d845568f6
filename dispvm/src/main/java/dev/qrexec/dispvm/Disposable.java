package dev.qrexec.dispvm;

import java.time.Duration;

/**
 * A disposable handed to one caller: running, visible, ready for a service call.
 *
 * @param name      the qube ({@code dispNNNN})
 * @param domainId  its domain id
 * @param template  its disposable template
 * @param caller    the qube it was obtained for
 * @param preloaded true when it came from the preload queue, false when it was cold-started
 * @param took      from the request until it was usable
 */
public record Disposable(String name, int domainId, String template, String caller, boolean preloaded,
                         Duration took) {
}
