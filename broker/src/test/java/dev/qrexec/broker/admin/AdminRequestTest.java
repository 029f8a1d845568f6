package dev.qrexec.broker.admin;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminRequestTest {

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesHeaderAndPayload() throws Exception {
        AdminRequest r = AdminRequest.parse(b("admin.vm.property.Set+label dom0 work\0blue"));
        assertEquals("admin.vm.property.Set", r.method());
        assertEquals("label", r.argument());
        assertEquals("dom0", r.source());
        assertEquals("work", r.destination());
        assertEquals("blue", r.payloadText());
        assertArrayEquals(b("admin.vm.property.Set+label dom0 work\0blue"), r.encode());
        AdminRequest bare = AdminRequest.parse(b("admin.vm.List dom0 dom0\0"));
        assertEquals("", bare.argument());
        assertEquals(0, bare.payload().length);
        assertEquals("a+b+c", AdminRequest.parse(b("x.Y+a+b+c dom0 dom0\0")).argument());
    }

    @Test
    void rejectsMalformedRequestsWithProtocolError() {
        for (String bad : new String[] {"admin.vm.List dom0 dom0", "admin.vm.List dom0\0", "admin.vm.List  dom0 dom0\0",
                "admin.vm.List dom0 dom0 extra\0", "admin/vm dom0 dom0\0", "+arg dom0 dom0\0", "\0",
                "admin.vm.List dom0 wo\u00e9rk\0"}) {
            AdminException e = assertThrows(AdminException.class, () -> AdminRequest.parse(b(bad)), bad);
            assertEquals("ProtocolError", e.type());
        }
        byte[] huge = new byte[AdminRequest.MAX_BYTES + 1];
        assertThrows(AdminException.class, () -> AdminRequest.parse(huge));
    }

    @Test
    void responsesUseQubesdFraming() throws Exception {
        assertArrayEquals(b("0\0hello"), AdminResponse.ok("hello"));
        byte[] err = AdminResponse.error(AdminException.notFound("x"));
        assertArrayEquals(b("2\0QubesVMNotFoundError\0\0No such domain: 'x'\0"), err);
        AdminResponse.Reply r = AdminResponse.parse(err);
        assertEquals("QubesVMNotFoundError", r.errorType());
        assertEquals("No such domain: 'x'", r.errorMessage());
        assertArrayEquals(b("1\0work\0preload-ready\0template\0dvm\0\0"),
                AdminResponse.event("work", "preload-ready", java.util.Map.of("template", "dvm")));
        assertTrue(assertThrows(AdminException.class, () -> AdminResponse.parse(b("7\0x"))).getMessage()
                .contains("unknown reply status"));
    }
}
