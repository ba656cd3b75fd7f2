package dev.thaw.cluster;

import dev.thaw.common.Json;
import dev.thaw.memory.WorkingSet;
import java.net.http.HttpClient;
import java.nio.file.*;
import java.util.*;

/**
 * Measures a peer snapshot fetch, loading set first against file order (docs/cluster.md): when the
 * loading set is complete and when the whole snapshot is. Not a test; run against a live node:
 * {@code java -cp target/test-classes:target/classes:target/lib/* dev.thaw.cluster.FetchBench http://127.0.0.1:18401 SNAPSHOT_ID .../snapshot/ws.json 3}
 */
public final class FetchBench {
    public static void main(String[] a) throws Exception {
        String peer = a[0], snap = a[1];
        Path ws = Path.of(a[2]);
        int runs = Integer.parseInt(a[3]);
        WorkingSet w = Json.MAPPER.readValue(ws.toFile(), WorkingSet.class);
        BitSet need = new BitSet();
        for (var g : w.groups()) for (var r : g) need.set((int) r.start(), (int) (r.start() + r.count()));
        for (var r : w.zeroPages()) need.clear((int) r.start(), (int) (r.start() + r.count()));
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < runs; i++) {
            for (boolean wsFirst : new boolean[]{true, false}) {
                BitSet have = new BitSet();
                long t0 = System.nanoTime();
                long[] lsAt = {-1};
                SnapshotFetcher.Source base = SnapshotFetcher.http(http, peer, null);
                SnapshotFetcher.Source src = (fn, file, off, len) -> {
                    byte[] b = base.read(fn, file, off, len);
                    if (file.equals("memory.sparse")) {
                        have.set((int) (off / 4096), (int) ((off + b.length) / 4096));
                        BitSet missing = (BitSet) need.clone();
                        missing.andNot(have);
                        if (lsAt[0] < 0 && missing.isEmpty()) lsAt[0] = (System.nanoTime() - t0) / 1_000_000;
                    }
                    return b;
                };
                Path dir = Files.createTempDirectory("thaw-fetchbench").resolve("snapshot");
                var r = new SnapshotFetcher(src, wsFirst).fetch("hello", snap, dir);
                System.out.printf("run %d %-16s loading set (%d pages) complete at %5d ms, whole snapshot at %5d ms, %d bytes%n",
                        i, wsFirst ? "working-set-first" : "file-order", need.cardinality(), lsAt[0], r.millis(), r.bytes());
                dev.thaw.common.FileTrees.delete(dir);
            }
        }
    }
}
