package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import dev.qrexec.xen.libvirt.binding.LibvirtError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Real libvirt errors (provoked on the test driver) and how they become typed HypervisorExceptions. */
class ErrorMappingTest {

    private LibvirtConnection conn;
    private String name;

    @BeforeEach
    void open() {
        conn = LibvirtConnection.open(LibvirtTestSupport.libvirtOrSkip(), LibvirtTestSupport.TEST_URI);
        name = LibvirtTestSupport.uniqueName("err");
    }

    @AfterEach
    void close() {
        if (conn != null) {
            conn.close();
        }
    }

    @Test
    void xmlTheDriverRejectsIsOperationFailedWithLibvirtsMessage() {
        LibvirtError e = assertThrows(LibvirtError.class, () -> conn.define(name, "<domain type='test'><name>"
                + name + "</name><memory>1024</memory><os><type>bogus</type></os></domain>"));
        assertEquals(LibvirtError.VIR_ERR_CONFIG_UNSUPPORTED, e.code());
        HypervisorException mapped = ErrorMapping.forOperation(e, name, "define", QubeState.HALTED);
        assertInstanceOf(HypervisorException.OperationFailed.class, mapped);
        assertEquals("libvirt rejected the domain XML of qube '" + name
                + "': unsupported configuration: unknown OS type 'bogus'", mapped.getMessage());
        assertSame(e, mapped.getCause());
    }

    @Test
    void malformedXmlIsReportedWithWhereItBroke() {
        LibvirtError e = assertThrows(LibvirtError.class, () -> conn.define(name, "<domain type='test'><name>"));
        assertEquals(LibvirtError.VIR_ERR_XML_DETAIL, e.code());
        HypervisorException mapped = ErrorMapping.forOperation(e, name, "define", QubeState.HALTED);
        assertInstanceOf(HypervisorException.OperationFailed.class, mapped);
        assertEquals(true, mapped.getMessage().contains("Premature end of data"), mapped.getMessage());
    }

    @Test
    void aDomainGoneUnderAHandleIsNoSuchQube() {
        try (DomainHandle d = conn.define(name, "<domain type='test'><name>" + name
                + "</name><memory>1024</memory><os><type>xen</type></os></domain>")) {
            try (DomainHandle other = conn.lookupByName(name)) {
                other.undefine(0);
            }
            LibvirtError e = assertThrows(LibvirtError.class, d::create);
            assertEquals(LibvirtError.VIR_ERR_NO_DOMAIN, e.code());
            assertEquals("virDomainCreate(" + name + ")", e.call());
            HypervisorException mapped = ErrorMapping.forOperation(e, name, "start", QubeState.HALTED);
            assertEquals("no such qube: " + name, mapped.getMessage());
            assertSame(e, mapped.getCause());
        }
    }

    @Test
    void anUnexpectedErrorKeepsLibvirtsMessageCallAndCode() {
        try (DomainHandle d = conn.define(name, "<domain type='test'><name>" + name
                + "</name><memory>1024</memory><os><type>xen</type></os></domain>")) {
            try {
                LibvirtError e = assertThrows(LibvirtError.class, d::suspend);  // the driver says: internal error
                HypervisorException mapped = ErrorMapping.forOperation(e, name, "pause", QubeState.HALTED);
                assertEquals("libvirt could not pause qube '" + name + "': internal error: domain '" + name
                        + "' not running (virDomainSuspend(" + name + "), libvirt error 1)", mapped.getMessage());
            } finally {
                d.undefine(0);
            }
        }
    }

    @Test
    void codesWithAMeaningOfTheirOwnGetTheirType() {
        LibvirtError invalid = new LibvirtError("virDomainSuspend(q)", LibvirtError.VIR_ERR_OPERATION_INVALID, 10,
                "Requested operation is not valid: domain is not running");
        HypervisorException.InvalidState state = assertInstanceOf(HypervisorException.InvalidState.class,
                ErrorMapping.forOperation(invalid, "q", "pause", QubeState.HALTED));
        assertEquals(QubeState.HALTED, state.state());
        assertSame(invalid, state.getCause());

        LibvirtError timeout = new LibvirtError("virDomainCreate(q)", LibvirtError.VIR_ERR_OPERATION_TIMEOUT, 10,
                "Timed out during operation: cannot acquire state change lock");
        assertEquals("libvirt timed out trying to start qube 'q': Timed out during operation: cannot acquire "
                        + "state change lock",
                assertInstanceOf(HypervisorException.Timeout.class,
                        ErrorMapping.forOperation(timeout, "q", "start", QubeState.HALTED)).getMessage());

        LibvirtError exists = new LibvirtError("virDomainDefineXML(q)", LibvirtError.VIR_ERR_DOM_EXIST, 20,
                "domain 'q' already exists");
        assertInstanceOf(HypervisorException.AlreadyDefined.class,
                ErrorMapping.forOperation(exists, "q", "define", QubeState.HALTED));

        LibvirtError unsupported = new LibvirtError("virDomainSetMemoryFlags(q)", LibvirtError.VIR_ERR_NO_SUPPORT, 12,
                "this function is not supported by the connection driver: virDomainSetMemoryFlags");
        assertEquals("this libvirt driver cannot set the memory target of qube 'q': this function is not "
                        + "supported by the connection driver: virDomainSetMemoryFlags",
                ErrorMapping.forOperation(unsupported, "q", "set the memory target of", QubeState.RUNNING)
                        .getMessage());
    }

    @Test
    void openFailureIsBackendUnavailableWithAHintForRealHosts() {
        LibvirtError e = new LibvirtError("virConnectOpen(xen:///system)", LibvirtError.VIR_ERR_SYSTEM_ERROR, 7,
                "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory");
        HypervisorException mapped = ErrorMapping.forOpen(e, "xen:///system");
        assertInstanceOf(HypervisorException.BackendUnavailable.class, mapped);
        assertEquals("cannot connect to libvirt at xen:///system: Failed to connect socket to "
                + "'/var/run/libvirt/libvirt-sock': No such file or directory (is libvirtd running and may this "
                + "user connect to it?)", mapped.getMessage());
    }
}
