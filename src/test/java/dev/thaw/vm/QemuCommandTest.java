package dev.thaw.vm;

import dev.thaw.guest.GuestImage;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class QemuCommandTest {
    final GuestImage image = new GuestImage("k", Path.of("/img"), "6.1");

    @Test
    void bootMapsMemoryShared() {
        List<String> cmd = QemuCommand.argv(VmConfig.boot(image, 256, 1, Accel.TCG, Path.of("/s/memory")), Path.of("/run/i"));
        assertTrue(cmd.contains("memory-backend-file,id=mem,size=256M,mem-path=/s/memory,share=on"), cmd.toString());
        assertFalse(cmd.contains("-incoming"));
        assertTrue(String.join(" ", cmd).contains("tsc_early_khz="));
        assertEquals("on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny,spawn=deny", cmd.get(cmd.indexOf("-sandbox") + 1));
    }

    @Test
    void restoreMapsPrivateAndWaitsForIncomingState() {
        List<String> cmd = QemuCommand.argv(VmConfig.restore(image, 256, 1, Accel.TCG, Path.of("/s/memory"), Path.of("/s/vmstate")), Path.of("/run/i"));
        assertTrue(cmd.contains("memory-backend-file,id=mem,size=256M,mem-path=/s/memory,share=off"), cmd.toString());
        int i = cmd.indexOf("-incoming");
        assertEquals("defer", cmd.get(i + 1));
        assertTrue(cmd.contains("-S"));
    }

    @Test
    void anonymousMemoryForColdBoots() {
        List<String> cmd = QemuCommand.argv(VmConfig.boot(image, 512, 2, Accel.KVM, null), Path.of("/run/i"));
        assertTrue(cmd.contains("memory-backend-ram,id=mem,size=512M"));
        assertEquals("kvm", cmd.get(cmd.indexOf("-accel") + 1));
        assertEquals("host", cmd.get(cmd.indexOf("-cpu") + 1));
    }
}
