package dev.qrexec.bench.policy;

import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.system.SystemInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A realistic, reproducible policy of a given size for the benchmarks: per-service rules with and
 * without arguments (tags, types, names, @dispvm, ask with default_target), a sprinkle of
 * ten {@code * *} rules interleaved with them, and a default file at the end; a desktop of 24 qubes;
 * requests mixing known services, unknown services and every action.
 */
public final class SyntheticPolicy {

    static final String[] QUBES = {"work", "personal", "vault", "untrusted", "banking", "dev", "mail", "media",
            "sys-net", "sys-firewall", "sys-usb", "default-dvm", "web-dvm", "debian-13", "fedora-42", "disp100",
            "disp101", "printer", "backup", "gpg", "ssh", "notes", "chat", "games"};
    private static final String[] SOURCES = {"work", "personal", "@anyvm", "@tag:trusted", "@type:AppVM", "*", "untrusted",
            "@tag:net"};
    private static final String[] TARGETS = {"vault", "@anyvm", "@dispvm", "@default", "@tag:trusted", "@adminvm", "work",
            "@dispvm:web-dvm", "@type:AppVM"};

    private SyntheticPolicy() {
    }

    /** The number of distinct services for a policy of this size (about ten rules per service). */
    static int serviceCount(int rules) {
        return Math.max(10, rules / 10);
    }

    /** Writes {@code rules} rules into {@code dir} as several {@code .policy} files. */
    public static void write(Path dir, int rules, long seed) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(seed);
        int services = serviceCount(rules);
        int perFile = Math.max(1, rules / 10);
        StringBuilder text = new StringBuilder();
        int file = 0;
        for (int i = 0; i < rules; i++) {
            // ten "* *" rules spread evenly through the policy, whatever its size: real policies have few
            boolean wildcard = i % Math.max(1, rules / 10) == rules / 20;
            text.append(wildcard ? wildcardRule(random) : rule(random, services)).append('\n');
            if ((i + 1) % perFile == 0 || i == rules - 1) {
                Files.writeString(dir.resolve(String.format("%02d-bench.policy", 10 + file++)), text.toString());
                text.setLength(0);
            }
        }
        Files.writeString(dir.resolve("90-default.policy"), "* * @anyvm @anyvm deny\n");
    }

    private static String wildcardRule(Random random) {
        return "* * " + pick(random, QUBES) + " " + pick(random, "vault", "@anyvm", "@dispvm") + " deny";
    }

    private static String rule(Random random, int services) {
        String service = "vendor.Service" + random.nextInt(services);
        String argument = random.nextInt(3) == 0 ? "*" : "+arg" + random.nextInt(4);
        String target = pick(random, TARGETS);
        String action = pick(random, "allow", "allow", "deny", "ask");
        String params = "";
        if (target.equals("@default") && !action.equals("deny")) {
            params = " target=" + pick(random, "vault", "@dispvm", "work");
        } else if (action.equals("ask") && random.nextBoolean()) {
            params = " default_target=" + pick(random, "vault", "@dispvm", "work");
        } else if (action.equals("allow") && random.nextInt(4) == 0) {
            params = " user=root";
        }
        return service + " " + argument + " " + pick(random, SOURCES) + " " + target + " " + action + params;
    }

    /** A desktop of 24 qubes plus dom0. */
    public static SystemInfo system() {
        StringBuilder json = new StringBuilder("{\"domains\": {\"dom0\": {\"type\": \"AdminVM\", \"tags\": [],"
                + " \"template_for_dispvms\": false, \"default_dispvm\": \"default-dvm\", \"power_state\": \"Running\","
                + " \"uuid\": \"00000000-0000-0000-0000-000000000000\"}");
        for (int i = 0; i < QUBES.length; i++) {
            String q = QUBES[i];
            boolean dvm = q.endsWith("-dvm");
            json.append(String.format(", \"%s\": {\"type\": \"%s\", \"tags\": [%s], \"template_for_dispvms\": %s,"
                            + " \"default_dispvm\": \"default-dvm\", \"guivm\": \"dom0\", \"power_state\": \"%s\","
                            + " \"icon\": \"appvm-red\", \"uuid\": \"00000000-0000-0000-0000-%012d\"}",
                    q, q.startsWith("disp") ? "DispVM" : q.startsWith("debian") || q.startsWith("fedora") ? "TemplateVM"
                            : "AppVM", i % 3 == 0 ? "\"trusted\"" : q.startsWith("sys") ? "\"net\"" : "",
                    dvm, i % 2 == 0 ? "Running" : "Halted", i + 1));
        }
        return SystemInfo.fromJson(json.append("}}").toString());
    }

    /** {@code count} requests: mostly services of the policy, some unknown services, every target form. */
    public static List<PolicyRequest> requests(int rules, int count, long seed) {
        Random random = new Random(seed);
        int services = serviceCount(rules);
        List<PolicyRequest> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String service = random.nextInt(10) == 0 ? "unknown.Service" + i : "vendor.Service" + random.nextInt(services);
            out.add(new PolicyRequest(service, pick(random, "+", "+arg0", "+arg1", "+arg2", "+arg3", "+other"),
                    pick(random, QUBES), pick(random, "vault", "work", "", "@dispvm", "dom0", "@adminvm", "no-such-vm",
                    "@dispvm:web-dvm", "personal"), "", random.nextInt(4) == 0 ? EvaluationMode.JUST_EVALUATE
                    : EvaluationMode.NORMAL));
        }
        return out;
    }

    private static String pick(Random random, String... options) {
        return options[random.nextInt(options.length)];
    }
}
