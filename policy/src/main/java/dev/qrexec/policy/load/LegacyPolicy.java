package dev.qrexec.policy.load;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The files of the R4.0 policy directory and the order {@code !compat-4.0} reads them in (spec 1.5). */
final class LegacyPolicy {

    private static final Logger LOG = System.getLogger(LegacyPolicy.class.getName());
    private static final List<String> IGNORED_SUFFIXES = List.of(".rpmsave", ".rpmnew", ".swp");

    /** One legacy file: {@code svc+arg} gives ({@code svc}, {@code +arg}), {@code svc} gives ({@code svc}, {@code *}). */
    record Entry(String service, String argument, Path file) {
    }

    private LegacyPolicy() {
    }

    /** Services in order; per service the specific arguments ascending and the {@code *} file last. */
    static List<Entry> list(Path dir) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> listing = Files.list(dir)) {
            for (Path p : (Iterable<Path>) listing::iterator) {
                String name = p.getFileName().toString();
                if (!Files.isRegularFile(p)) {
                    LOG.log(Level.INFO, "ignoring {0} (not a file)", p);
                } else if (IGNORED_SUFFIXES.stream().anyMatch(s -> suffix(name).equals(s))) {
                    LOG.log(Level.INFO, "ignoring {0} (ignored suffix)", p);
                } else if (name.startsWith(".")) {
                    LOG.log(Level.INFO, "ignoring {0} (dotfile)", p);
                } else if (!name.chars().allMatch(LegacyPolicy::isRpcNameChar)) {
                    LOG.log(Level.INFO, "ignoring {0} (invalid characters)", p);
                } else {
                    int plus = name.indexOf('+');
                    entries.add(plus < 0 ? new Entry(name, "*", p)
                            : new Entry(name.substring(0, plus), name.substring(plus), p));
                }
            }
        }
        entries.sort(Comparator.comparing(Entry::service).thenComparing(Entry::argument, (a, b) -> {
            if (a.equals(b)) {
                return 0;
            }
            if (a.equals("*")) {
                return 1;
            }
            return b.equals("*") ? -1 : a.compareTo(b);
        }));
        return entries;
    }

    /** Python's {@code PurePath.suffix}. */
    private static String suffix(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && dot < name.length() - 1 ? name.substring(dot) : "";
    }

    private static boolean isRpcNameChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '+' || c == '-' || c == '.' || c == '_';
    }
}
