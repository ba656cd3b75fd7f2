package dev.thaw.load;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Trace samples copied into the test resources (from invitro's test data; Azure data CC-BY). */
final class Fixtures {
    private Fixtures() {}

    static Path traces(String name) {
        try {
            var url = Fixtures.class.getResource("traces/" + name);
            if (url == null) {
                throw new IllegalStateException("missing test resource traces/" + name);
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
