package dev.thaw.platform;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.memory.PageAvailability;
import dev.thaw.memory.PageCache;
import dev.thaw.snapshot.Manifest;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.snapshot.SnapshotCorruptException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The deployed functions: what is on disk under {@code <data>/functions}, loaded at start-up,
 * verified in the background, replaced atomically by a deploy and removed by an undeploy.
 *
 * <p>A deploy builds into a hidden staging directory and renames it into place only once it is
 * complete, so a crash mid-deploy leaves the previous deployment (and the staging directory is
 * discarded at the next start). Deploys of one name are serialised; deploys of different names
 * run concurrently.
 */
final class FunctionRegistry {
    private static final System.Logger LOG = System.getLogger(FunctionRegistry.class.getName());

    private final Path functionsDir;
    private final Deployer deployer;
    private final InstanceManager instances;
    private final Map<String, Deployed> functions = new ConcurrentHashMap<>();
    /** Deployments found on disk that cannot be opened, by name, with why: listed, never silently dropped. */
    private final Map<String, String> broken = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> deployLocks = new ConcurrentHashMap<>();
    private final CountDownLatch verified = new CountDownLatch(1);

    FunctionRegistry(Path functionsDir, Deployer deployer, InstanceManager instances) {
        this.functionsDir = functionsDir;
        this.deployer = deployer;
        this.instances = instances;
    }

    /**
     * Finds the functions deployed before a restart. A deploy interrupted by a crash leaves a
     * staging directory (discarded) and, if it crashed between its two renames, the previous
     * deployment as {@code .old-NAME-ID} with no {@code NAME}: that one is put back.
     */
    void load() {
        try (Stream<Path> dirs = Files.list(functionsDir)) {
            for (Path dir : dirs.sorted().toList()) {
                String file = dir.getFileName().toString();
                if (file.startsWith(".old-")) {
                    String name = file.substring(".old-".length(), file.lastIndexOf('-'));
                    Path live = functionsDir.resolve(name);
                    if (!Files.exists(live)) Files.move(dir, live, StandardCopyOption.ATOMIC_MOVE);
                    else FileTrees.delete(dir);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Stream<Path> dirs = Files.list(functionsDir)) {
            for (Path dir : dirs.toList()) {
                if (dir.getFileName().toString().startsWith(".") || Files.exists(dir.resolve(FETCHING))) {
                    FileTrees.delete(dir); // a staging directory of a deploy, or an early install, interrupted by a crash
                    continue;
                }
                try {
                    Deployed d = Deployed.open(dir);
                    functions.put(d.name(), d);
                } catch (IOException | RuntimeException e) {
                    String why = e.getMessage() == null ? e.toString() : e.getMessage();
                    broken.put(dir.getFileName().toString(), why);
                    LOG.log(System.Logger.Level.WARNING, "cannot open the deployment " + dir + ": " + why);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Checks the checksums of the snapshots found at start-up, then drops what the check read
     * from the page cache: the first restore should find the cache as cold as it was, and should
     * not pay for reading whole memory files to verify them. Runs on its own thread.
     */
    void verifyLoaded() {
        try {
            for (Deployed d : List.copyOf(functions.values())) {
                try {
                    d.snapshot().verify();
                    for (Path f : d.snapshot().files()) PageCache.drop(f);
                } catch (SnapshotCorruptException e) {
                    LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; restores of " + d.name() + " will fail until it is deployed again");
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "verifying " + d.name() + ": " + e);
                }
            }
        } finally {
            verified.countDown();
        }
    }

    boolean verified() {
        return verified.getCount() == 0;
    }

    /** The deployed function; NOT_FOUND, or CONFLICT for one whose deployment on disk is broken. */
    Deployed get(String name) {
        Deployed d = functions.get(name);
        if (d != null) return d;
        String why = broken.get(name);
        if (why != null) {
            throw new ThawException(ThawException.Kind.CONFLICT, "function_broken", "the deployment of " + name
                    + " on disk cannot be used (" + why + "); deploy it again");
        }
        throw ThawException.notFound("no function named \"" + name + "\" is deployed");
    }

    /** Deployments on disk that could not be opened at start-up, by name, with the reason. */
    Map<String, String> broken() {
        return new TreeMap<>(broken);
    }

    /** All deployed functions, by name. */
    List<Deployed> all() {
        return List.copyOf(new TreeMap<>(functions).values());
    }

    FunctionInfo info(Deployed d) {
        FunctionSpec s = d.spec();
        return new FunctionInfo(s.name(), s.runtime(), s.memoryMib(), s.vcpus(), s.timeoutSeconds(), (int) instances.running(s.name()),
                d.snapshot().manifest(), d.codeHash(), d.plan() != null);
    }

    /** Deploys a function and replaces an earlier deployment of the same name once the new one is complete. */
    FunctionInfo deploy(FunctionBundle bundle) {
        String name = bundle.spec().name();
        ReentrantLock lock = deployLocks.computeIfAbsent(name, k -> new ReentrantLock());
        lock.lock();
        Path staging = functionsDir.resolve(".staging-" + name + "-" + Ids.shortId());
        try {
            deployer.build(bundle, staging);
            return replace(name, staging);
        } catch (IOException e) {
            throw new UncheckedIOException("deploying " + name, e);
        } finally {
            FileTrees.delete(staging);
            lock.unlock();
        }
    }

    /** Renames a complete {@code staging} directory into place as {@code name}, replacing the deployment there. */
    private FunctionInfo replace(String name, Path staging) throws IOException {
        return replace(name, staging, Deployed::openSealed);
    }

    /** As {@link #replace(String, Path)}, opening the deployment in place with {@code opener}. */
    private FunctionInfo replace(String name, Path staging, Opener opener) throws IOException {
        Path dir = functionsDir.resolve(name);
        Path old = functionsDir.resolve(".old-" + name + "-" + Ids.shortId());
        if (Files.exists(dir)) Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        fsync(functionsDir); // both renames are durable before the old deployment goes
        functions.put(name, opener.open(dir));
        broken.remove(name);
        instances.stopAll(name); // they run the previous code
        FileTrees.delete(old);
        return info(get(name));
    }

    /** A fresh hidden directory under the functions directory to assemble {@code name} in (deleted at start-up if left). */
    Path newStaging(String name) {
        return functionsDir.resolve(".fetch-" + name + "-" + Ids.shortId());
    }

    /**
     * Installs a deployment assembled elsewhere (a snapshot fetched from a peer, its checksums
     * already checked while it arrived) exactly as a deploy would: atomically, replacing the
     * previous one. {@code staging} must come from {@link #newStaging} and hold {@code code/}
     * and a complete {@code snapshot/}.
     */
    FunctionInfo install(String name, Path staging) {
        if (!staging.getParent().equals(functionsDir) || !staging.getFileName().toString().startsWith(".fetch-" + name + "-")) {
            throw ThawException.badRequest(staging + " is not a staging directory for " + name);
        }
        ReentrantLock lock = deployLocks.computeIfAbsent(name, k -> new ReentrantLock());
        lock.lock();
        try {
            return replace(name, staging);
        } catch (IOException e) {
            throw new UncheckedIOException("installing " + name, e);
        } finally {
            FileTrees.delete(staging);
            lock.unlock();
        }
    }

    private interface Opener {
        Deployed open(Path dir) throws IOException;
    }

    /** Marks a deployment whose memory files are still arriving: one found at start-up is an interrupted fetch, deleted. */
    static final String FETCHING = "fetching";

    /**
     * Installs a fetched deployment before its memory files have arrived (docs/cluster.md, early
     * restore): {@code staging} holds {@code code/} and every snapshot file but the memory
     * files, checked; it is renamed into place as {@link #install} does, and its snapshot is
     * {@link Snapshot#pending} until {@link #completePending} (the fetch wrote the rest into the
     * renamed directory through the files it had open) or {@link #abandonPending}.
     */
    Path installPending(String name, Path staging, Manifest manifest, PageAvailability arriving) {
        if (!staging.getParent().equals(functionsDir) || !staging.getFileName().toString().startsWith(".fetch-" + name + "-")) {
            throw ThawException.badRequest(staging + " is not a staging directory for " + name);
        }
        ReentrantLock lock = deployLocks.computeIfAbsent(name, k -> new ReentrantLock());
        lock.lock();
        try {
            Files.writeString(staging.resolve(FETCHING), manifest.snapshotId());
            replace(name, staging, dir -> {
                FunctionBundle code = FunctionBundle.fromDirectory(dir.resolve("code"));
                return Deployed.open(code, dir, Snapshot.pending(dir.resolve("snapshot"), manifest, arriving));
            });
            return functionsDir.resolve(name).resolve("snapshot");
        } catch (IOException e) {
            FileTrees.delete(staging);
            throw new UncheckedIOException("installing " + name + " early", e);
        } finally {
            lock.unlock();
        }
    }

    /** The pending deployment of {@code name} (its snapshot id {@code snapshotId}) is complete: from now on a normal one. False if it is gone. */
    boolean completePending(String name, String snapshotId) {
        ReentrantLock lock = deployLocks.computeIfAbsent(name, k -> new ReentrantLock());
        lock.lock();
        try {
            Deployed d = pending(name, snapshotId);
            if (d == null) return false;
            Files.deleteIfExists(d.dir().resolve(FETCHING));
            functions.put(name, Deployed.openSealed(d.dir())); // the fetch checked every file; running instances keep their page servers
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("completing " + name, e);
        } finally {
            lock.unlock();
        }
    }

    /** {@code name}'s deployment if it is still the pending one of {@code snapshotId}, else null (replaced, deleted or complete). */
    private Deployed pending(String name, String snapshotId) {
        Deployed d = functions.get(name);
        return d != null && d.snapshot().pending() && d.snapshot().manifest().snapshotId().equals(snapshotId) ? d : null;
    }

    /** The fetch of a pending deployment failed for good: its instances stop, its directory goes. */
    void abandonPending(String name, String snapshotId) {
        ReentrantLock lock = deployLocks.computeIfAbsent(name, k -> new ReentrantLock());
        lock.lock();
        try {
            Deployed d = pending(name, snapshotId);
            if (d == null) return;
            functions.remove(name);
            instances.stopAll(name);
            FileTrees.delete(d.dir());
        } finally {
            lock.unlock();
        }
    }

    private static void fsync(Path dir) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    void undeploy(String name) {
        if (broken.remove(name) != null && !functions.containsKey(name)) {
            FileTrees.delete(functionsDir.resolve(name));
            return;
        }
        Deployed d = get(name);
        functions.remove(name);
        instances.stopAll(name);
        FileTrees.delete(d.dir());
    }

    /** The snapshots of all deployed functions, for {@code GET /snapshots}. */
    List<ObjectNode> snapshots() {
        List<ObjectNode> out = new ArrayList<>();
        for (Deployed d : all()) {
            ObjectNode o = Json.MAPPER.valueToTree(d.snapshot().manifest());
            o.put("path", d.snapshot().dir().toString());
            if (d.plan() != null) { // the record restores use, and the size each recording method found
                ObjectNode ws = o.putObject("working_set");
                ws.put("method", d.plan().method()).put("pages", d.plan().workingSetPages())
                        .put("loading_set_pages", d.plan().loadingSetPages());
                if (d.plan().pagesByMethod() != null) ws.set("pages_by_method", Json.MAPPER.valueToTree(d.plan().pagesByMethod()));
            }
            out.add(o);
        }
        return out;
    }
}
