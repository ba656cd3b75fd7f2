package dev.thaw.load;

import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DaemonStatsTest {
    @Test
    void theCostOfARunIsTheDifferenceOfTwoReadings() {
        var before = Json.parse("{\"functions\": {\"hello\": {\"restores\": 4, \"boots\": 0, \"idle_instance_s\": 10, "
                + "\"idle_mib_s\": 2560, \"dispatch\": {\"queued\": 1, \"restored\": 2}}}}");
        var after = Json.parse("{\"functions\": {\"hello\": {\"restores\": 6, \"boots\": 0, \"idle_instance_s\": 40, "
                + "\"idle_mib_s\": 10240, \"dispatch\": {\"queued\": 11, \"restored\": 3}}, \"new\": {\"restores\": 1}}}");
        var d = DaemonStats.diff(before, after);
        assertEquals(new DaemonStats.Cost(2, 0, 30, 7680, 10, 1), d.get("hello"));
        assertEquals(1, d.get("new").restores(), "a function deployed during the run counts from zero");
        assertEquals(3, d.get("hello").plus(d.get("new")).restores());
    }
}
