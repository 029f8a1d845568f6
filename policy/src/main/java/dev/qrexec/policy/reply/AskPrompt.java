package dev.qrexec.policy.reply;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code policy.Ask} call for a pending ask (spec 5.8): which GUI qube to ask and the JSON
 * payload (source, service, argument, targets, default target, icons). A source without guivm
 * cannot be asked: the daemon then answers with {@link DaemonReply#afterAnswer} and a null choice.
 *
 * @param guivm  the qube running the prompt, or null when the source has none
 * @param params the JSON object to send
 */
public record AskPrompt(String guivm, Map<String, Object> params) {

    public AskPrompt {
        params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    public static AskPrompt of(PolicyRequest request, Decision.Ask ask, SystemInfo system) {
        Objects.requireNonNull(ask, "ask");
        QubeInfo source = system.get(request.effectiveSource());
        String guivm = source == null || source.guivm() == null || source.guivm().isEmpty() ? null : source.guivm();
        Map<String, Object> icons = new LinkedHashMap<>();
        for (QubeInfo q : system.qubes()) {
            icons.put(q.name(), q.icon());
        }
        for (QubeInfo q : system.qubes()) {
            if (q.templateForDispvms()) {
                // a disposable of a template is shown with the template's icon, "app" becoming "disp"
                icons.put("@dispvm:" + q.name(), q.icon() == null ? null : q.icon().replace("app", "disp"));
            }
        }
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("source", request.effectiveSource());
        params.put("service", request.service());
        params.put("argument", request.argument());
        params.put("targets", List.copyOf(ask.targets()));
        params.put("default_target", ask.defaultTarget() == null ? "" : ask.defaultTarget());
        params.put("icons", icons);
        return new AskPrompt(guivm, params);
    }
}
