package dev.qrexec.policy.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SystemInfoTest {

    private static final String JSON = "{\"domains\": {"
            + "\"dom0\": {\"type\": \"AdminVM\", \"tags\": [\"t\"], \"uuid\": \"00000000-0000-0000-0000-000000000000\","
            + " \"template_for_dispvms\": false, \"power_state\": \"Running\"},"
            + "\"dvm\": {\"type\": \"AppVM\", \"tags\": [], \"uuid\": \"u1\", \"template_for_dispvms\": true,"
            + " \"internal\": \"1\", \"guivm\": null},"
            + "\"work\": {\"type\": \"AppVM\", \"tags\": [\"w\"], \"uuid\": \"u2\", \"internal\": \"\", \"guivm\": \"dom0\","
            + " \"default_dispvm\": \"dvm\", \"future_property\": [1, 2]}}}";

    @Test
    void namesAndUuidAliasesLeadToTheSameQube() {
        SystemInfo s = SystemInfo.fromJson(JSON);
        assertSame(s.get("work"), s.get("uuid:u2"));
        assertSame(s.get("dom0"), s.get("uuid:00000000-0000-0000-0000-000000000000"));
        assertEquals(3, s.qubes().size());
        assertEquals(6, s.keys().size());
        assertFalse(s.contains("@adminvm"));
    }

    @Test
    void propertiesFollowPythonTruthiness() {
        SystemInfo s = SystemInfo.fromJson(JSON);
        assertTrue(s.get("dvm").internal());
        assertFalse(s.get("work").internal());
        assertTrue(s.get("dvm").hasGuivm());
        assertFalse(s.get("dom0").hasGuivm());
        assertEquals("dvm", s.get("work").defaultDispvm());
        assertTrue(s.get("dom0").isRunning());
    }

    @Test
    void askExpansions() {
        SystemInfo s = SystemInfo.fromJson(JSON);
        assertEquals(List.of("dom0", "dvm", "@dispvm:dvm", "work", "@dispvm"), s.askExpansion(true));
        assertEquals(List.of("dvm", "@dispvm:dvm", "work", "@dispvm"), s.askExpansion(false));
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        assertEquals("system info has no \"domains\" object",
                assertThrows(IllegalArgumentException.class, () -> SystemInfo.fromJson("{}")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SystemInfo.fromJson("{"))
                .getMessage().startsWith("system info is not valid JSON"));
        assertEquals("system info entry of qube 'x' is not an object",
                assertThrows(IllegalArgumentException.class, () -> SystemInfo.fromJson("{\"domains\": {\"x\": 1}}"))
                        .getMessage());
    }
}
