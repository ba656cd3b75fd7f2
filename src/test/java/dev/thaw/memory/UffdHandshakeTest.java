package dev.thaw.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Strict parsing of the handshake a VMM sends: what Firecracker sends is taken, anything else named and refused. */
class UffdHandshakeTest {
    private static final long FILE = 256L << 20;

    private static List<UffdHandshake.Region> parse(String json) throws IOException {
        return UffdHandshake.parse(json.getBytes(StandardCharsets.UTF_8), FILE);
    }

    @Test
    void takesFirecrackersMessage() throws IOException {
        var r = parse(FirecrackerStandIn.json(0x7f0000000000L, FILE, 0, 4096));
        assertEquals(List.of(new UffdHandshake.Region(0x7f0000000000L, FILE, 0, 4096)), r);
    }

    @Test
    void takesTheDeprecatedDuplicateOfOlderFirecrackers() throws IOException {
        var r = parse("[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size\":4096,\"page_size_kib\":4096}]");
        assertEquals(1, r.size());
    }

    @Test
    void takesSeveralRegions() throws IOException {
        var r = parse("[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size\":4096},"
                + "{\"base_host_virt_addr\":1048576,\"size\":4096,\"offset\":8192,\"page_size\":4096}]");
        assertEquals(2, r.size());
        assertEquals(8192, r.get(1).offset());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{}|not a JSON array",
            "[]|0 regions",
            "[1]|is not an object",
            "[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0}]|lacks \"page_size\"",
            "[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0,\"page_size\":4096,\"uid\":0}]|unknown field \"uid\"",
            "[{\"base_host_virt_addr\":\"4096\",\"size\":4096,\"offset\":0,\"page_size\":4096}]|non-negative 64-bit integer",
            "[{\"base_host_virt_addr\":4096,\"size\":-4096,\"offset\":0,\"page_size\":4096}]|non-negative 64-bit integer",
            "[{\"base_host_virt_addr\":4096.5,\"size\":4096,\"offset\":0,\"page_size\":4096}]|non-negative 64-bit integer",
            "[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0,\"page_size\":2097152}]|not supported",
            "[{\"base_host_virt_addr\":4097,\"size\":4096,\"offset\":0,\"page_size\":4096}]|multiples of the page size",
            "[{\"base_host_virt_addr\":4096,\"size\":0,\"offset\":0,\"page_size\":4096}]|multiples of the page size",
            "[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":268435456,\"page_size\":4096}]|outside the",
            "[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size\":4096,\"page_size_kib\":4}]|differs from page_size",
            "[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size\":4096},{\"base_host_virt_addr\":8192,\"size\":4096,\"offset\":0,\"page_size\":4096}]|overlaps",
            "[{\"base_host_virt_addr\":4096|not JSON",
    })
    void refusesAndNamesWhatIsWrong(String json, String message) {
        IOException e = assertThrows(IOException.class, () -> parse(json));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void refusesTooManyRegionsAndTooManyBytes() {
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i <= UffdHandshake.MAX_REGIONS; i++) {
            if (i > 0) many.append(',');
            many.append("{\"base_host_virt_addr\":").append((i + 1) * 4096L).append(",\"size\":4096,\"offset\":0,\"page_size\":4096}");
        }
        assertTrue(assertThrows(IOException.class, () -> parse(many + "]")).getMessage().contains("expected 1 to 64"));
        byte[] big = new byte[UffdHandshake.MAX_BYTES + 1];
        assertThrows(IOException.class, () -> UffdHandshake.parse(big, FILE));
    }
}
