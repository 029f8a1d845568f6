package dev.qrexec.policy.system;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every string an ask can offer for one system, sorted and numbered, so that ask-candidate sets
 * are bit sets (spec 5.5): each qube name, {@code @dispvm:NAME} for each qube, {@code @dispvm} and
 * {@code @adminvm}. Bit order is string order, so reading a set in bit order gives the sorted
 * list the ask shows. Immutable; built once per {@link SystemInfo} on first use.
 */
public final class CandidateSpace {

    private final String[] strings;
    /** Per bit: the qube it names (directly or as {@code @dispvm:NAME}); null for the two keywords. */
    private final QubeInfo[] qubeOfBit;
    private final Map<String, Integer> nameBit;
    private final Map<String, Integer> dispvmBit;
    private final int dispvmKeywordBit;
    private final int adminvmBit;
    private final long[] wildcard;
    private final long[] anyvm;
    /** Per position in {@link SystemInfo#qubes()}: the bit of its name and of its {@code @dispvm:NAME}. */
    private final int[] nameBitAt;
    private final int[] dispvmBitAt;

    CandidateSpace(List<QubeInfo> qubes) {
        List<String> all = new ArrayList<>(qubes.size() * 2 + 2);
        Map<String, QubeInfo> byString = new HashMap<>();
        for (QubeInfo q : qubes) {
            all.add(q.name());
            byString.put(q.name(), q);
            all.add("@dispvm:" + q.name());
            byString.put("@dispvm:" + q.name(), q);
        }
        all.add("@dispvm");
        all.add("@adminvm");
        strings = all.toArray(new String[0]);
        Arrays.sort(strings);
        qubeOfBit = new QubeInfo[strings.length];
        Map<String, Integer> names = new HashMap<>(qubes.size() * 2);
        Map<String, Integer> dispvms = new HashMap<>(qubes.size() * 2);
        int dispvm = -1;
        int adminvm = -1;
        for (int i = 0; i < strings.length; i++) {
            String s = strings[i];
            qubeOfBit[i] = byString.get(s);
            if (s.equals("@dispvm")) {
                dispvm = i;
            } else if (s.equals("@adminvm")) {
                adminvm = i;
            } else if (s.startsWith("@dispvm:")) {
                dispvms.put(qubeOfBit[i].name(), i);
            } else {
                names.put(s, i);
            }
        }
        nameBit = names;
        dispvmBit = dispvms;
        dispvmKeywordBit = dispvm;
        adminvmBit = adminvm;
        nameBitAt = new int[qubes.size()];
        dispvmBitAt = new int[qubes.size()];
        for (int i = 0; i < qubes.size(); i++) {
            nameBitAt[i] = nameBit.get(qubes.get(i).name());
            dispvmBitAt[i] = dispvmBit.get(qubes.get(i).name());
        }
        wildcard = newSet();
        anyvm = newSet();
        for (QubeInfo q : qubes) {
            set(wildcard, nameBit.get(q.name()));
            if (!q.name().equals("dom0")) {
                set(anyvm, nameBit.get(q.name()));
            }
            if (q.templateForDispvms()) {
                set(wildcard, dispvmBit.get(q.name()));
                set(anyvm, dispvmBit.get(q.name()));
            }
        }
        set(wildcard, dispvmKeywordBit);
        set(anyvm, dispvmKeywordBit);
    }

    /** An empty set of this space. */
    public long[] newSet() {
        return new long[(strings.length + 63) >>> 6];
    }

    public static void set(long[] set, int bit) {
        set[bit >>> 6] |= 1L << bit;
    }

    public static void clear(long[] set, int bit) {
        set[bit >>> 6] &= ~(1L << bit);
    }

    public static boolean isSet(long[] set, int bit) {
        return (set[bit >>> 6] & (1L << bit)) != 0;
    }

    /** The string of a bit. */
    public String string(int bit) {
        return strings[bit];
    }

    /** The qube a bit names (the qube itself or its disposables); null for {@code @dispvm}/{@code @adminvm}. */
    public QubeInfo qube(int bit) {
        return qubeOfBit[bit];
    }

    /** The bit of a qube's name. */
    public int nameBit(QubeInfo q) {
        return nameBit.get(q.name());
    }

    /** The bit of {@code @dispvm:NAME} for a qube. */
    public int dispvmBit(QubeInfo q) {
        return dispvmBit.get(q.name());
    }

    /** The bit of the name of the {@code i}-th qube of {@link SystemInfo#qubes()}. */
    public int nameBitAt(int i) {
        return nameBitAt[i];
    }

    /** The bit of {@code @dispvm:NAME} of the {@code i}-th qube of {@link SystemInfo#qubes()}. */
    public int dispvmBitAt(int i) {
        return dispvmBitAt[i];
    }

    public int dispvmKeywordBit() {
        return dispvmKeywordBit;
    }

    public int adminvmBit() {
        return adminvmBit;
    }

    /** What {@code *} expands to (do not modify). */
    public long[] wildcardSet() {
        return wildcard;
    }

    /** What {@code @anyvm} expands to (do not modify). */
    public long[] anyvmSet() {
        return anyvm;
    }
}
