package dev.thaw.cli;

import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.util.concurrent.Callable;

/** {@code thaw image build|info}: the guest image (kernel, initramfs, root filesystem). */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Build or inspect the guest image (Debian cloud kernel, initramfs, read-only root filesystem).",
        subcommands = {ImageCommand.Build.class, ImageCommand.Info.class})
final class ImageCommand {

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Build the guest image unless the cache ($THAW_CACHE_DIR, default /var/cache/thaw) already holds one for this recipe.")
    static final class Build implements Callable<Integer> {
        @Override
        public Integer call() {
            GuestImage img = new ImageBuilder(ThawDirs.cache()).ensure(Boot::progress);
            System.out.println("guest image " + img.key() + " (kernel " + img.kernelRelease() + ") at " + img.dir());
            return 0;
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true, description = "Show the recipe key and whether its image is built.")
    static final class Info implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            ImageBuilder b = new ImageBuilder(ThawDirs.cache());
            GuestImage img = b.existing();
            System.out.println("recipe key: " + ImageBuilder.recipeKey());
            if (img == null) {
                System.out.println("not built yet (run: thaw image build)");
                return 1;
            }
            System.out.println("kernel:     " + img.kernelRelease());
            try (var files = Files.list(img.dir())) {
                for (var f : files.sorted().toList()) System.out.printf("  %-14s %,d bytes%n", f.getFileName(), Files.size(f));
            }
            return 0;
        }
    }
}
