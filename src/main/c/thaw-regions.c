/*
 * thaw-regions: FaaSnap's per-region mapping of guest memory for QEMU, loaded with LD_PRELOAD.
 *
 * FaaSnap (EuroSys'22) maps a restored VM's memory region by region: the pages that hold data
 * from the snapshot's memory file, the all-zero pages as anonymous memory, so a guest touching a
 * zero page gets a fresh zero page from the kernel without any disk read or page-cache lookup.
 * QEMU maps guest RAM itself (memory-backend-file, share=off), so this library does it at the
 * moment QEMU maps the memory file:
 *
 *   1. The mmap() of the file named by THAW_REGIONS_MEM_PATH (matched by device and inode, as in
 *      thaw-uffd.c) is made exactly as QEMU asked (a private copy-on-write file mapping).
 *   2. Every zero region listed in the file THAW_REGIONS_LIST is then covered by
 *      mmap(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS) with the same protection, which splits the
 *      file mapping into file and anonymous pieces (two more mappings per region).
 *
 * The list is written by thaw (dev.thaw.memory.RegionList), text, one item a line:
 *
 *   thaw-regions 1
 *   pages <pages in the memory file>
 *   <first page> <page count>          one line per zero region, ascending, not overlapping
 *   end
 *
 * Numbers are decimal digits only (no sign, no spaces but the one separator, at most 18 digits),
 * counts at least 1. The list is read and checked completely when the library loads, before QEMU
 * maps anything; the page count must match the memory file's size. Any malformed line, a list
 * that does not fit the file or the mapping, or a failed mmap makes QEMU's mmap of the memory
 * file fail (QEMU exits, naming the backend) after a "thaw-regions: ..." line on stderr: a VM
 * never runs on a half-applied layout. Only the first mapping of the file is taken over.
 *
 * Built by thaw itself (dev.thaw.memory.RegionsPreload) with the host's cc and cached by the hash
 * of this file; it needs nothing but glibc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PAGE 4096ULL
#define MAX_LIST_BYTES (4u << 20)
#define MAX_REGIONS 32768 /* 65,537 mappings at most: the kernel's default vm.max_map_count is 65,530 */

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

struct region {
    uint64_t start, count; /* in pages of the memory file */
};

static mmap_fn real_mmap;
static int armed;              /* 1 while the memory file's mapping is still to be laid out */
static dev_t mem_dev;
static ino_t mem_ino;
static struct region *regions;
static size_t nregions;
static char error[320];        /* set when the list is unusable: the mapping then fails with it */

static void say(const char *what) {
    char line[400];
    int n = snprintf(line, sizeof line, "thaw-regions: %s\n", what);
    if (n > 0) (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Reads one decimal number ending at `end_char`; advances *p past it. 0 on success. */
static int number(const char **p, const char *limit, char end_char, uint64_t *out) {
    const char *s = *p;
    uint64_t v = 0;
    int digits = 0;
    while (s < limit && *s >= '0' && *s <= '9') {
        if (++digits > 18) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (digits == 0 || s >= limit || *s != end_char) return -1;
    *p = s + 1;
    *out = v;
    return 0;
}

/* Matches the literal `text` at *p; advances past it. */
static int literal(const char **p, const char *limit, const char *text) {
    size_t n = strlen(text);
    if ((size_t)(limit - *p) < n || memcmp(*p, text, n) != 0) return -1;
    *p += n;
    return 0;
}

/*
 * Parses the whole list; returns 0, or -1 with `error` naming the line. `file_pages` is the
 * memory file's size in pages.
 */
static int parse(const char *buf, size_t len, uint64_t file_pages) {
    const char *p = buf, *limit = buf + len;
    uint64_t pages, line = 1, next_free = 0;
    if (literal(&p, limit, "thaw-regions 1\n") != 0) {
        snprintf(error, sizeof error, "line 1 is not \"thaw-regions 1\"");
        return -1;
    }
    line = 2;
    if (literal(&p, limit, "pages ") != 0 || number(&p, limit, '\n', &pages) != 0) {
        snprintf(error, sizeof error, "line 2 is not \"pages <count>\"");
        return -1;
    }
    if (pages != file_pages) {
        snprintf(error, sizeof error, "the list is for %llu pages, the memory file has %llu",
                 (unsigned long long)pages, (unsigned long long)file_pages);
        return -1;
    }
    regions = calloc(MAX_REGIONS, sizeof *regions);
    if (regions == NULL) {
        snprintf(error, sizeof error, "out of memory");
        return -1;
    }
    for (line = 3;; line++) {
        if (literal(&p, limit, "end\n") == 0) break;
        uint64_t start, count;
        if (number(&p, limit, ' ', &start) != 0 || number(&p, limit, '\n', &count) != 0) {
            snprintf(error, sizeof error, "line %llu is not \"<first page> <count>\" or \"end\"", (unsigned long long)line);
            return -1;
        }
        if (count == 0 || start < next_free || start > pages || count > pages - start) {
            snprintf(error, sizeof error, "line %llu: region %llu+%llu is empty, out of order, overlapping or past page %llu",
                     (unsigned long long)line, (unsigned long long)start, (unsigned long long)count, (unsigned long long)pages);
            return -1;
        }
        if (nregions == MAX_REGIONS) {
            snprintf(error, sizeof error, "more than %d regions", MAX_REGIONS);
            return -1;
        }
        regions[nregions++] = (struct region){start, count};
        next_free = start + count;
    }
    if (p != limit) {
        snprintf(error, sizeof error, "text after \"end\" (line %llu)", (unsigned long long)line + 1);
        return -1;
    }
    return 0;
}

static int load_list(const char *path, uint64_t file_pages) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, sizeof error, "cannot open THAW_REGIONS_LIST %.200s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_LIST_BYTES);
    size_t len = 0;
    ssize_t n = 0;
    while (buf != NULL && len < MAX_LIST_BYTES && (n = read(fd, buf + len, MAX_LIST_BYTES - len)) > 0) len += (size_t)n;
    int saved = errno;
    close(fd);
    int rc = -1;
    if (buf == NULL) snprintf(error, sizeof error, "out of memory");
    else if (n < 0) snprintf(error, sizeof error, "cannot read THAW_REGIONS_LIST: %s", strerror(saved));
    else if (len == MAX_LIST_BYTES) snprintf(error, sizeof error, "THAW_REGIONS_LIST is larger than %u bytes", MAX_LIST_BYTES);
    else rc = parse(buf, len, file_pages);
    free(buf);
    return rc;
}

__attribute__((constructor)) static void thaw_regions_init(void) {
    real_mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
    /* LD_PRELOAD also reaches the wrapper that execs QEMU (setpriv): act only in QEMU itself. */
    if (strncmp(program_invocation_short_name, "qemu-system", 11) != 0) return;
    const char *mem = getenv("THAW_REGIONS_MEM_PATH");
    const char *list = getenv("THAW_REGIONS_LIST");
    /* QEMU's children (the exec:cat of a migration) must not see the variables. */
    unsetenv("LD_PRELOAD");
    if (mem == NULL || list == NULL) return;
    char mem_copy[4096], list_copy[4096];
    snprintf(mem_copy, sizeof mem_copy, "%s", mem);
    snprintf(list_copy, sizeof list_copy, "%s", list);
    unsetenv("THAW_REGIONS_MEM_PATH");
    unsetenv("THAW_REGIONS_LIST");
    struct stat st;
    if (stat(mem_copy, &st) != 0) {
        say("cannot stat THAW_REGIONS_MEM_PATH; the per-region layout is not applied");
        return; /* QEMU fails to open it too, with its own message */
    }
    mem_dev = st.st_dev;
    mem_ino = st.st_ino;
    armed = 1;
    if (st.st_size <= 0 || (uint64_t)st.st_size % PAGE != 0)
        snprintf(error, sizeof error, "the memory file's size %lld is not a whole number of pages", (long long)st.st_size);
    else
        load_list(list_copy, (uint64_t)st.st_size / PAGE);
}

/* The file mapping is in place at `base`, covering file bytes [offset, offset + len). */
static int lay_out(char *base, size_t len, int prot, int flags, off_t offset) {
    if ((uint64_t)offset % PAGE != 0 || len % PAGE != 0) {
        snprintf(error, sizeof error, "the memory file is mapped at an unaligned offset or length");
        return -1;
    }
    uint64_t first = (uint64_t)offset / PAGE, end = first + len / PAGE;
    for (size_t i = 0; i < nregions; i++) {
        if (regions[i].start < first || regions[i].start + regions[i].count > end) {
            snprintf(error, sizeof error, "region %llu+%llu lies outside the mapping of pages %llu..%llu",
                     (unsigned long long)regions[i].start, (unsigned long long)regions[i].count,
                     (unsigned long long)first, (unsigned long long)end);
            return -1;
        }
    }
    int keep = flags & MAP_NORESERVE;
    for (size_t i = 0; i < nregions; i++) {
        char *at = base + (regions[i].start - first) * PAGE;
        void *p = real_mmap(at, regions[i].count * PAGE, prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | keep, -1, 0);
        if (p != at) {
            snprintf(error, sizeof error, "anonymous mapping of region %llu+%llu (%zu of %zu): %s",
                     (unsigned long long)regions[i].start, (unsigned long long)regions[i].count, i + 1, nregions,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int is_guest_ram(int fd, int flags) {
    if (!armed || fd < 0 || (flags & MAP_ANONYMOUS)) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_dev != mem_dev || st.st_ino != mem_ino) return 0;
    return 1;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
    if (real_mmap == NULL) real_mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
    if (!is_guest_ram(fd, flags)) return real_mmap(addr, len, prot, flags, fd, offset);
    armed = 0;
    if (error[0] == 0 && (flags & MAP_TYPE) != MAP_PRIVATE)
        snprintf(error, sizeof error, "guest RAM is mapped shared: anonymous regions would not reach the file");
    if (error[0] != 0) {
        say(error);
        errno = EINVAL;
        return MAP_FAILED;
    }
    void *base = real_mmap(addr, len, prot, flags, fd, offset);
    if (base == MAP_FAILED) return MAP_FAILED;
    if (lay_out(base, len, prot, flags, offset) != 0) {
        say(error);
        /* Never leave a half-applied layout: with MAP_FIXED, QEMU's reservation is gone too, and
         * QEMU fails on the error anyway. */
        munmap(base, len);
        errno = EINVAL;
        return MAP_FAILED;
    }
    char note[160];
    snprintf(note, sizeof note, "%zu zero regions mapped anonymous over the memory file", nregions);
    say(note);
    return base;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
    return mmap(addr, len, prot, flags, fd, offset);
}
